// The RESP example (examples/resp, built here with wasm-reactor build) against a real
// redis-server: redis-benchmark SET and GET over 50 connections, unpipelined and with 16
// commands in flight (-P 16), interleaved runs, medians. Each server is pinned to one
// core and redis-benchmark to the other; beside requests/s, the server's CPU µs per
// request (from /proc) and its memory per key (resident memory grown by loading 100,000
// keys of 64-byte values, divided by the keys).
import { execFileSync, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cpuSeconds, median, pin, rssBytes } from "./common.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, "..");
const REQUESTS = 200_000;
const KEYS = 100_000;

function start(kind, port, module) {
  const [cmd, args] = kind === "redis"
    ? pin(0, "redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
    : pin(0, process.execPath, [path.join(root, "dist", "src", "cli.js"), "serve", "--module", module, "--port", String(port), "--host", "127.0.0.1"]);
  const child = spawn(cmd, args, { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    try {
      if (execFileSync("redis-cli", ["-p", String(port), "PING"], { encoding: "utf8" }).trim() === "PONG") return child;
    } catch { /* not up yet */ }
    execFileSync("sleep", ["0.05"]);
  }
  child.kill();
  throw new Error(`${kind} did not start on port ${port}`);
}

function benchmark(port, pipeline) {
  const [cmd, args] = pin(1, "redis-benchmark", ["-p", String(port), "-t", "set,get", "-c", "50", "-n", String(REQUESTS),
    "-P", String(pipeline), "--csv"]);
  const out = execFileSync(cmd, args, { encoding: "utf8", timeout: 120_000 });
  const rps = {};
  for (const line of out.split("\n")) {
    const m = /^"(SET|GET)","([\d.]+)"/.exec(line);
    if (m) rps[m[1]] = Number(m[2]);
  }
  return rps;
}

function memoryPerKey(port, pid) {
  const before = rssBytes(pid);
  execFileSync("redis-benchmark", ["-p", String(port), "-t", "set", "-n", String(KEYS * 3), "-r", String(KEYS), "-d", "64", "-q"],
    { stdio: "ignore" });
  const keys = Number(execFileSync("redis-cli", ["-p", String(port), "DBSIZE"], { encoding: "utf8" }).trim());
  return (rssBytes(pid) - before) / keys;
}

export async function respBench(runs) {
  try {
    execFileSync("redis-benchmark", ["--version"], { stdio: "ignore" });
  } catch {
    console.log("\nRESP example vs redis-server: skipped (apt-get install redis-tools redis-server)");
    return;
  }
  // The example as users build it (metered for the CPU budget), and built --unmetered: what metering costs.
  const modules = { wasm: path.join(here, ".bin", "resp.wasm"), unmetered: path.join(here, ".bin", "resp-unmetered.wasm") };
  for (const [kind, module] of Object.entries(modules)) {
    execFileSync(process.execPath, [path.join(root, "dist", "src", "cli.js"), "build", path.join(root, "examples", "resp", "handler.ts"),
      "-o", module, ...(kind === "unmetered" ? ["--unmetered"] : [])], { cwd: root, stdio: "ignore" });
  }
  const rows = {}; // [server][workload] = { rps: [], cpu: [] }
  const perKey = { redis: [], wasm: [], unmetered: [] };
  const KINDS = ["redis", "wasm", "unmetered"];
  for (let run = 0; run < runs; run++) {
    for (const kind of KINDS) {
      const port = 16400 + KINDS.indexOf(kind) * 100 + run; // fixed, fresh each run: every server starts clean
      const child = start(kind, port, modules[kind]);
      try {
        for (const pipeline of [1, 16]) {
          const cpuBefore = cpuSeconds(child.pid);
          const rps = benchmark(port, pipeline);
          const cpuUs = ((cpuSeconds(child.pid) - cpuBefore) * 1e6) / (2 * REQUESTS);
          for (const test of ["SET", "GET"]) {
            const cell = ((rows[kind] ??= {})[`${test} -P ${pipeline}`] ??= { rps: [], cpu: [] });
            cell.rps.push(rps[test]);
            cell.cpu.push(cpuUs);
          }
          process.stderr.write(`resp run ${run + 1}/${runs} ${kind} -P ${pipeline}: SET ${rps.SET} GET ${rps.GET}\n`);
        }
        perKey[kind].push(memoryPerKey(port, child.pid));
      } finally {
        child.kill();
      }
    }
  }
  console.log(`\nRESP example (examples/resp) vs redis-server, redis-benchmark -c 50, median of ${runs} runs; server and client on separate cores\n`);
  console.log("workload      redis-server   wasm-reactor   ratio   CPU µs/req redis   wasm   ratio");
  for (const workload of Object.keys(rows.redis)) {
    const [r, w] = [rows.redis[workload], rows.wasm[workload]];
    const ratios = w.rps.map((v, i) => v / r.rps[i]);
    const cpuRatios = w.cpu.map((v, i) => v / r.cpu[i]);
    console.log(`${workload.padEnd(12)}  ${median(r.rps).toFixed(0).padStart(12)}   ${median(w.rps).toFixed(0).padStart(12)}   ${median(ratios).toFixed(2)}×`
      + `   ${median(r.cpu).toFixed(2).padStart(16)}   ${median(w.cpu).toFixed(2).padStart(4)}   ${median(cpuRatios).toFixed(2)}× (SET+GET run)`);
  }
  console.log(`memory per key (64-byte values, ${KEYS} keys, resident memory grown): redis-server ${median(perKey.redis).toFixed(0)} B, `
    + `wasm-reactor ${median(perKey.wasm).toFixed(0)} B`);
  console.log("\nmetering for the CPU budget: the example as built (metered) vs built --unmetered");
  for (const workload of Object.keys(rows.wasm)) {
    const [m, u] = [rows.wasm[workload], rows.unmetered[workload]];
    console.log(`${workload.padEnd(12)}  rate ${median(m.rps.map((v, i) => v / u.rps[i])).toFixed(2)}×, `
      + `CPU µs/req ${median(m.cpu.map((v, i) => v / u.cpu[i])).toFixed(2)}×`);
  }
}
