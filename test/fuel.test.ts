// The CPU budget (assembly/fuel.ts, src/fuel-transform.ts): a handler's own loops and
// calls are metered at build time, so an endless loop traps instead of hanging the
// server, and the point where a handler runs out depends on its input only: the same on
// native, net and the simulator, and in replay.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { replayTrace } from "../host/replay.js";
import { createServer } from "../src/index.js";
import { simulateModule } from "../src/testing.js";
import { buildModule } from "./fixture-modules.js";
import { connect, HOST, receive, receiveAll, waitFor } from "./helpers.js";

const loop = buildModule("examples/loop-forever/handler.ts", "loop-forever");
const BUDGET = 1000;

/** Whether "spin <n>" is answered (true) or runs out of budget (false), on the simulator. */
function answeredOnSim(n: number): boolean {
  const net = simulateModule({ module: loop, options: { cpuBudget: BUDGET } });
  const client = net.connect().write(`spin ${n}\n`);
  net.run();
  return !client.closed && client.text() === `spun ${n}\n`;
}

// The most rounds one event's budget allows, found on the simulator.
let most = 0;
for (let lo = 0, hi = BUDGET; lo <= hi;) {
  const mid = (lo + hi) >> 1;
  if (answeredOnSim(mid)) {
    most = mid;
    lo = mid + 1;
  } else {
    hi = mid - 1;
  }
}

test("the budget runs out at the same input on the simulator, native and net, and a trace replays to the same trap", async () => {
  assert.ok(most > BUDGET * 0.9 && most < BUDGET, `${most} rounds fit in ${BUDGET} units`);
  const dir = mkdtempSync(path.join(tmpdir(), "wr-fuel-"));
  try {
    for (const backend of ["native", "net"] as const) {
      const record = path.join(dir, `${backend}.wrt`);
      const server = await createServer({ module: loop, backend, host: HOST, port: 0, cpuBudget: BUDGET, record }).listen();
      const traps: string[] = [];
      server.on("trap", (err) => traps.push(err.message));
      try {
        const port = server.address()!.port;
        const within = await connect(port);
        within.write(`spin ${most}\n`);
        assert.is((await receive(within, `spun ${most}\n`.length)).toString(), `spun ${most}\n`, backend);
        const over = await connect(port);
        const overClosed = receiveAll(over);
        over.write(`spin ${most + 1}\n`);
        assert.is((await overClosed).length, 0, `${backend}: one round more is one unit too many`);
        await waitFor(() => traps.length === 1, 5000, "the trap event");
        assert.match(traps[0], "CPU budget exhausted");
        within.write("still here\n");
        assert.is((await receive(within, 11)).toString(), "still here\n", `${backend}: the other connection goes on`);
        within.destroy();
      } finally {
        await server.close();
      }
      const replay = replayTrace(record);
      assert.is(replay.divergence, undefined, backend);
      assert.is(replay.traps.length, 1, backend);
      assert.match(replay.traps[0], "CPU budget exhausted");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an endless loop is ended by the default budget; cpuBudget 0 and an --unmetered build do not meter", () => {
  const endless = simulateModule({ module: loop });
  const spinner = endless.connect().write("spin\n");
  endless.run();
  assert.ok(spinner.closed);
  assert.match(endless.traps[0].error.message, "CPU budget exhausted");
  const unlimited = simulateModule({ module: loop, options: { cpuBudget: 0 } });
  const long = unlimited.connect().write("spin 20000000\n");
  unlimited.run();
  assert.is(long.text(), "spun 20000000\n", "past the default budget, with no limit set");
  const unmetered = simulateModule({ module: buildModule("examples/loop-forever/handler.ts", "loop-unmetered", ["--unmetered"]),
    options: { cpuBudget: BUDGET } });
  const past = unmetered.connect().write(`spin ${BUDGET * 2}\n`);
  unmetered.run();
  assert.is(past.text(), `spun ${BUDGET * 2}\n`, "an unmetered build does not count");
});

test.run();
