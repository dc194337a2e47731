// wasm-reactor simulate: a seeded run of the simulator host from the command line.
import { parseArgs } from "node:util";
import { PROTOCOLS, type Protocol } from "../host/module.js";
import { FAULT_NAMES, NO_FAULTS, simulate, type Faults } from "../host/sim.js";

/** The protocols the simulator's virtual clients generate traffic for (and check). */
const SIMULATED: Protocol[] = ["echo", "line"];

export const SIMULATE_USAGE = `Usage: wasm-reactor simulate [options]

Run the module on a deterministic simulated network: every client's bytes are checked,
and the same seed gives the same run, byte for byte.

Options:
  --protocol <name>       ${SIMULATED.join(" | ")} (default: line)
  --connections <n>       virtual connections (default: 10000)
  --active <n>            of those, how many exchange traffic (default: 1% of them, at least 1)
  --messages <n>          messages per active client (default: 10)
  --max-message <bytes>   largest message or line (default: 1024)
  --seed <n>              the seed (default: 1)
  --faults <list>         all | none | comma list of ${FAULT_NAMES.join(",")}
                          each optionally =probability, e.g. split=0.5,reset (default: none)

Exit code 1 on any violation; the last line is the run's digest, which only a
different seed (or a different module) changes.`;

const DEFAULT_RATE: Faults = { split: 0.3, glue: 0.3, shortSend: 0.3, slowReader: 0.1, reset: 0.02, acceptFail: 0.05, delay: 0.1 };

export class UsageError extends Error {}

export function parseFaults(spec: string | undefined): Faults {
  if (spec === undefined || spec === "none") return { ...NO_FAULTS };
  if (spec === "all") return { ...DEFAULT_RATE };
  const faults = { ...NO_FAULTS };
  for (const item of spec.split(",")) {
    const [name, rate] = item.split("=") as [keyof Faults, string | undefined];
    if (!FAULT_NAMES.includes(name)) throw new UsageError(`unknown fault "${name}" (expected ${FAULT_NAMES.join(", ")})`);
    const p = rate === undefined ? DEFAULT_RATE[name] : Number(rate);
    if (!(p >= 0 && p <= 1)) throw new UsageError(`fault ${name} needs a probability from 0 to 1, got "${rate}"`);
    faults[name] = p;
  }
  return faults;
}

function count(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`--${name} expects a whole number >= ${min}, got "${value}"`);
  return Number(value);
}

export function runSimulate(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      protocol: { type: "string" }, connections: { type: "string" }, active: { type: "string" },
      messages: { type: "string" }, "max-message": { type: "string" }, seed: { type: "string" },
      faults: { type: "string" }, help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(SIMULATE_USAGE);
    return 0;
  }
  const protocol = (values.protocol ?? "line") as Protocol;
  if (!PROTOCOLS.includes(protocol)) throw new UsageError(`unknown protocol "${protocol}"`);
  if (!SIMULATED.includes(protocol)) {
    throw new UsageError(`simulate generates ${SIMULATED.join(" and ")} traffic; ${protocol} runs on the simulator in the conformance suite (npm test)`);
  }
  const connections = count("connections", values.connections, 10_000);
  if (connections > 1 << 20) throw new UsageError(`--connections is at most ${1 << 20} (the handle table's size)`);
  const active = Math.min(connections, count("active", values.active, Math.max(1, Math.floor(connections / 100))));
  const seed = count("seed", values.seed, 1, 0);
  const faults = parseFaults(values.faults);
  const started = Date.now();
  const r = simulate({ protocol, seed, connections, active, faults,
    messagesPerClient: count("messages", values.messages, 10), maxMessageBytes: count("max-message", values["max-message"], 1024) });
  const seconds = (Date.now() - started) / 1000;
  const on = FAULT_NAMES.filter((f) => faults[f] > 0).map((f) => `${f}=${faults[f]}`).join(",") || "none";
  console.log(`simulated ${protocol}: ${connections} connections (${active} active), seed ${seed}, faults ${on}`);
  console.log(`${r.events} events in ${r.batches} batches; dispatch ${(r.events / Math.max(r.dispatchSeconds, 1e-9) / 1e6).toFixed(2)}M events/s; wall ${seconds.toFixed(1)} s`);
  console.log(`${r.bytesExchanged} bytes answered; module memory per idle connection ${r.idleBytesPerConnection.toFixed(1)} B`);
  if (!r.ok) {
    for (const v of r.violations) console.log(`violation: ${v}`);
    console.log(`FAILED with seed ${seed}: rerun with --seed ${seed} and the same options`);
  }
  console.log(`digest ${r.digest} events ${r.events} memory/conn ${r.idleBytesPerConnection.toFixed(1)}`);
  return r.ok ? 0 : 1;
}
