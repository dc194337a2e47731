// Streaming: 100 MiB uploads hashed in JS as they stream in, wasm-reactor vs node:http,
// the same handler (servers/upload-hash.mjs). Server pinned to one core, the client to
// the other; runs interleaved; medians of MB/s and of the server's CPU ms per upload.
import { execFileSync, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cpuSeconds, median, pin } from "./common.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const MIB = 100;
const UPLOADS = 5;
const PEERS = { wasm: "wasm-reactor", node: "node:http" };

function start(kind) {
  const [cmd, args] = pin(0, process.execPath, [path.join(here, "servers", "upload-hash.mjs"), "0", kind]);
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once("exit", (code) => reject(new Error(`${kind} upload server exited (${code})`)));
  });
}

export async function uploadBench(runs) {
  const rates = { wasm: [], node: [] };
  const cpuMs = { wasm: [], node: [] };
  for (let run = 0; run < runs; run++) {
    for (const kind of Object.keys(PEERS)) {
      const { child, port } = await start(kind);
      const before = cpuSeconds(child.pid);
      const [cmd, args] = pin(1, process.execPath, [path.join(here, "upload-client.mjs"), String(port), String(MIB), String(UPLOADS)]);
      const { mbps } = JSON.parse(execFileSync(cmd, args, { encoding: "utf8" }));
      cpuMs[kind].push(((cpuSeconds(child.pid) - before) * 1000) / (UPLOADS + 1));
      rates[kind].push(mbps);
      process.stderr.write(`run ${run + 1}/${runs} ${PEERS[kind].padEnd(14)} upload ${mbps.toFixed(0)} MB/s\n`);
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
  }
  const ratios = rates.wasm.map((r, i) => r / rates.node[i]);
  console.log(`\nStreaming: ${MIB} MiB uploads hashed in JS as they arrive (SHA-256), median of ${runs} runs of ${UPLOADS} uploads;`
    + "\nserver and client pinned to separate cores\n");
  console.log(`  wasm-reactor ${median(rates.wasm).toFixed(0)} MB/s, ${median(cpuMs.wasm).toFixed(0)} ms CPU per upload`);
  console.log(`  node:http    ${median(rates.node).toFixed(0)} MB/s, ${median(cpuMs.node).toFixed(0)} ms CPU per upload`);
  console.log(`  wasm/node    ${median(ratios).toFixed(2)}× MB/s`);
}
