// wasm-reactor replay: feed a recorded trace to a fresh module and check every output.
import path from "node:path";
import { parseArgs } from "node:util";
import { replayTrace, TraceError } from "../host/replay.js";
import { UsageError } from "./simulate.js";

export const REPLAY_USAGE = `Usage: wasm-reactor replay <trace.wrt> [--module <handler.wasm>]

Feed a trace recorded with --record (or the record option) to a fresh module and
check every output record and byte against the recording. Exit code 0 if all match,
1 at the first divergence (printed with its batch, connection and byte offset),
2 if the file is not a complete, readable trace.

Options:
  --module <file>   replay against this module instead of the one recorded (say, a new
                    build of your handler against production traffic recorded with the old)`;

export function runReplay(argv: string[]): number {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true,
    options: { module: { type: "string" }, help: { type: "boolean", short: "h" } } });
  if (values.help) {
    console.log(REPLAY_USAGE);
    return 0;
  }
  const [file, ...extra] = positionals;
  if (file === undefined) throw new UsageError("replay needs a trace file: wasm-reactor replay <trace.wrt>");
  if (extra.length > 0) throw new UsageError(`replay takes one trace file, got also "${extra.join(" ")}"`);
  let result;
  try {
    result = replayTrace(file, values.module === undefined ? undefined : path.resolve(values.module));
  } catch (err) {
    if (!(err instanceof TraceError)) throw err;
    console.error(`wasm-reactor: ${err.message}`);
    return 2;
  }
  const { header, batches, traps, divergence } = result;
  if (!result.moduleMatches) console.log("note: this trace was recorded with a different build of the module");
  if (divergence) {
    const where = divergence.byteOffset === undefined ? "" : `, byte offset ${divergence.byteOffset}`;
    console.log(`${file}: diverged at batch ${divergence.batch}, connection ${divergence.connection} (slot ${divergence.slot})${where}: ${divergence.detail}`);
    return 1;
  }
  const trapNote = traps.length > 0 ? `; reproduced ${traps.length} trap(s): ${traps[0]}` : "";
  console.log(`${file}: replayed ${batches} batches (${header.protocol}, recorded on the ${header.host} host at ${header.recordedAt}); every output matches${trapNote}`);
  return 0;
}
