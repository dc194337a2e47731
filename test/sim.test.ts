// The simulator host: property tests over many seeds with every fault on, determinism
// (same seed, same bytes), and scale (a million connections in one process).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { NO_FAULTS, simulate, type SimOptions } from "../host/sim.js";
import { parseFaults } from "../src/simulate.js";

const ALL = parseFaults("all");
const small = (protocol: SimOptions["protocol"], seed: number, faults = ALL): SimOptions =>
  ({ protocol, seed, connections: 200, active: 100, messagesPerClient: 8, maxMessageBytes: 700, faults });

for (const protocol of ["echo", "line"] as const) {
  test(`${protocol}: 25 seeds with every fault on lose, reorder and invent nothing`, () => {
    for (let seed = 1; seed <= 25; seed++) {
      const r = simulate(small(protocol, seed));
      assert.ok(r.ok, `seed ${seed}: ${r.violations.join("; ")}`);
      assert.ok(r.bytesExchanged > 0, `seed ${seed}: no traffic`);
    }
  });

  test(`${protocol}: each fault alone keeps every byte in order`, () => {
    for (const name of Object.keys(NO_FAULTS) as (keyof typeof NO_FAULTS)[]) {
      const r = simulate(small(protocol, 99, { ...NO_FAULTS, [name]: 0.5 }));
      assert.ok(r.ok, `fault ${name}: ${r.violations.join("; ")}`);
    }
  });
}

test("the same seed replays byte for byte; another seed does not", () => {
  const a = simulate(small("line", 42));
  const b = simulate(small("line", 42));
  const c = simulate(small("line", 43));
  assert.is(a.digest, b.digest);
  assert.is(a.events, b.events);
  assert.is.not(a.digest, c.digest);
});

test("faults change the run (they are really injected)", () => {
  assert.is.not(simulate(small("echo", 5, NO_FAULTS)).digest, simulate(small("echo", 5)).digest);
});

function cli(seed: number) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "simulate", "--protocol", "line",
    "--connections", "1000000", "--seed", String(seed), "--faults", "all"], { encoding: "utf8", timeout: 120_000 });
  return { status: r.status, out: r.stdout, last: r.stdout.trim().split("\n").pop() ?? "" };
}

test("wasm-reactor simulate: 1M connections, an identical last line per seed, ≤ 128 B per idle connection", () => {
  const a = cli(7);
  assert.is(a.status, 0, a.out);
  const b = cli(7);
  const c = cli(8);
  assert.is(a.last, b.last);
  assert.is.not(a.last, c.last);
  const perConnection = Number(/memory\/conn ([\d.]+)/.exec(a.last)?.[1]);
  assert.ok(perConnection > 0 && perConnection <= 128, `memory per idle connection ${perConnection} B`);
  assert.match(a.out, "1000000 connections");
});

test("a bad fault name is a one-line usage error", () => {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "simulate", "--faults", "meteor"], { encoding: "utf8" });
  assert.is(r.status, 2);
  assert.match(r.stderr, 'unknown fault "meteor"');
});

test.run();
