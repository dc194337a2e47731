#!/usr/bin/env node
// npm run bench: echo round trips per second and MB/s for wasm-reactor, a plain
// node:net echo server and a minimal C epoll echo server (the ceiling); then HTTP
// keep-alive GET / for wasm-reactor's in-module route and JS handler, node:http and the
// C server with a fixed reply (the ceiling). All are driven by the same native load
// client (bench/c/loadgen.c). The machine is small and shared, so each cell is the
// median of several runs, and the tables report ratios rather than trusting one number.
//
// Then WebSocket echo round trips: the in-module ws-echo, the ws package, and the plain
// TCP echo ceiling; then scaling (threads 1 vs 2) and the worker pool against cluster.
// Then streaming uploads (bench/upload.mjs), and a pub/sub broadcast (bench/pubsub.mjs):
// one publisher, 1000 subscribers, 64-byte messages, server.publish against the ws
// package looping over its clients, in messages delivered per second and CPU per delivery.
//
// Beside each rate, the server's CPU time per round trip (from /proc/<pid>/stat, the
// whole process, every thread): the load client shares this 2-core machine, so a rate
// alone hides how much each server spends. --baseline DIR adds, for each wasm-reactor
// server, the same server run from another checkout (built), interleaved, with ratios.
//
// Last, the RESP example (examples/resp) against a real redis-server, with redis-benchmark,
// and how fast rollback isolation recovers from traps (bench/recovery.mjs).
//
//   node bench/run.mjs [--runs 5] [--seconds 4] [--suite echo,http,ws,scaling,pool,upload,pubsub,resp,recovery] [--only wasm,net,c,route,js,node,ws] [--baseline DIR]
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { cpuSeconds, median, pin } from "./common.mjs";
import { pubsubBench } from "./pubsub.mjs";
import { recoveryBench } from "./recovery.mjs";
import { respBench } from "./resp.mjs";
import { uploadBench } from "./upload.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.join(here, ".bin");
const { values } = parseArgs({
  options: { runs: { type: "string", default: "5" }, seconds: { type: "string", default: "4" }, only: { type: "string" },
    suite: { type: "string" }, baseline: { type: "string" } },
});
const RUNS = Number(values.runs);
const SECONDS = Number(values.seconds);

/** Compiles a C program of bench/c with the system compiler, if its source is newer. */
function compile(name) {
  const src = path.join(here, "c", `${name}.c`);
  const out = path.join(bin, name);
  mkdirSync(bin, { recursive: true });
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) {
    execFileSync("cc", ["-O2", "-Wall", "-Wextra", "-o", out, src], { stdio: "inherit" });
  }
  return out;
}

const epollServer = compile("epoll_echo");
// The same server with rollback isolation off: what isolating traps costs (isolateTraps).
const NO_ISOLATION = { WASM_REACTOR_BENCH_ISOLATE_TRAPS: "0" };
// The same servers on the io_uring host (backend "uring"; the others run on epoll).
const URING = { WASM_REACTOR_BENCH_BACKEND: "uring" };
const node = (file, ...args) => [process.execPath, [path.join(here, "servers", file), "0", ...args]];
// Each suite: its servers, its workloads, and the ratios its table reports.
const SUITES = {
  echo: {
    title: "Echo",
    servers: {
      wasm: { label: "wasm-reactor", cmd: node("wasm-echo.mjs") },
      wasmu: { label: "wasm-reactor on io_uring", cmd: node("wasm-echo.mjs"), env: URING },
      wasmx: { label: "wasm-reactor, traps not isolated", cmd: node("wasm-echo.mjs"), env: NO_ISOLATION },
      net: { label: "node:net", cmd: node("net-echo.mjs") },
      c: { label: "C epoll (ceiling)", cmd: [epollServer, ["0"]] },
    },
    workloads: [
      { name: "64 B, 50 conns", conns: 50, size: 64, metric: "rps" },
      { name: "64 B, 1000 conns", conns: 1000, size: 64, metric: "rps" },
      { name: "4 KiB, 1000 conns", conns: 1000, size: 4096, metric: "rps" },
      { name: "64 KiB, 50 conns", conns: 50, size: 65536, metric: "mbps" },
    ],
    ratios: [["wasm", "c"], ["wasmu", "wasm"], ["wasmu", "c"], ["wasm", "net"], ["wasm", "wasmx"]],
  },
  http: {
    title: "HTTP keep-alive GET /",
    servers: {
      route: { label: "wasm route", cmd: node("wasm-http.mjs", "route") },
      routeu: { label: "wasm route on io_uring", cmd: node("wasm-http.mjs", "route"), env: URING },
      routex: { label: "wasm route, traps not isolated", cmd: node("wasm-http.mjs", "route"), env: NO_ISOLATION },
      js: { label: "wasm JS handler", cmd: node("wasm-http.mjs", "js") },
      node: { label: "node:http", cmd: node("node-http.mjs") },
      express: { label: "Express on wasm", cmd: node("wasm-express.mjs") },
      nexpress: { label: "Express on node:http", cmd: node("node-express.mjs") },
      c: { label: "C epoll (ceiling)", cmd: [epollServer, ["0", "--http"]] },
    },
    workloads: [
      { name: "50 conns", conns: 50, size: 1, metric: "rps", mode: "http" },
      { name: "1000 conns", conns: 1000, size: 1, metric: "rps", mode: "http" },
    ],
    ratios: [["route", "c"], ["routeu", "route"], ["routeu", "c"], ["node", "c"], ["js", "node"], ["express", "nexpress"], ["route", "routex"]],
  },
  ws: {
    title: "WebSocket echo, 64-byte binary messages",
    servers: {
      wasm: { label: "wasm ws-echo", cmd: node("wasm-ws.mjs") },
      wasmu: { label: "wasm ws-echo on io_uring", cmd: node("wasm-ws.mjs"), env: URING },
      wasmx: { label: "wasm ws-echo, traps not isolated", cmd: node("wasm-ws.mjs"), env: NO_ISOLATION },
      js: { label: "wasm JS echo", cmd: node("wasm-ws-js.mjs") },
      ws: { label: "ws package", cmd: node("ws-package.mjs") },
      // The ceiling is the echo bench's: plain TCP, 64-byte messages, no framing at all.
      c: { label: "C TCP echo (ceiling)", cmd: [epollServer, ["0"]], mode: "echo" },
    },
    workloads: [
      { name: "50 clients", conns: 50, size: 64, metric: "rps", mode: "ws" },
      { name: "1000 clients", conns: 1000, size: 64, metric: "rps", mode: "ws" },
    ],
    ratios: [["wasm", "c"], ["wasmu", "wasm"], ["wasm", "ws"], ["js", "ws"], ["wasm", "wasmx"]],
  },
  scaling: {
    title: "Scaling: HTTP in-module route, threads 1 vs 2 (two sub-reactors may use both cores, so they share one with the load client)",
    servers: {
      t1: { label: "threads 1", cmd: node("wasm-http-scaled.mjs", "threads", "1") },
      t2: { label: "threads 2", cmd: node("wasm-http-scaled.mjs", "threads", "2"), cpus: "0,1" },
    },
    workloads: [{ name: "1000 conns", conns: 1000, size: 1, metric: "rps", mode: "http" }],
    ratios: [["t2", "t1"]],
  },
  pool: {
    title: "Worker pool: a CPU-heavy handler (~1 ms of SHA-256 per request), 2 workers vs node:http cluster with 2 processes (both cores)",
    servers: {
      workers: { label: "wasm workers 2", cmd: node("wasm-http-scaled.mjs", "workers", "2"), cpus: "0,1" },
      cluster: { label: "node:http cluster 2", cmd: node("node-cluster.mjs", "2"), cpus: "0,1" },
    },
    workloads: [{ name: "50 conns", conns: 50, size: 1, metric: "rps", mode: "http" }],
    ratios: [["workers", "cluster"]],
  },
};
// --baseline: every wasm-reactor server again, from the other checkout, compared with ours.
if (values.baseline) {
  const servers = path.join(path.resolve(values.baseline), "bench", "servers");
  for (const suite of Object.values(SUITES)) {
    for (const [key, server] of Object.entries(suite.servers)) {
      if (!server.label.startsWith("wasm") || server.cmd[0] !== process.execPath || server.env) continue;
      const [exe, [script, ...rest]] = server.cmd;
      suite.servers[`${key}0`] = { ...server, label: `${server.label} (baseline)`, cmd: [exe, [path.join(servers, path.basename(script)), ...rest]] };
      suite.ratios.push([key, `${key}0`]);
    }
  }
}
const loadgen = compile("loadgen");
function startServer(server) {
  return new Promise((resolve, reject) => {
    const [cmd, args] = pin(server.cpus ?? 0, ...server.cmd);
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...server.env } });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once("exit", (code) => reject(new Error(`${server.label} exited (${code}) before listening`)));
  });
}

async function stopServer({ child }) {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** One load run: its rate (w.metric) and the server's CPU µs per round trip over it (warm-up included). */
function load(port, w, pid) {
  const before = cpuSeconds(pid);
  const [cmd, args] = pin(1, loadgen, ["--port", String(port), "--conns", String(w.conns), "--size", String(w.size),
    "--seconds", String(SECONDS), "--warmup", "1", "--mode", w.mode ?? "echo"]);
  const out = execFileSync(cmd, args, { encoding: "utf8", timeout: (SECONDS + 30) * 1000 });
  const result = JSON.parse(out.trim().split("\n").pop());
  if (result.errors > 0) throw new Error(`load client saw ${result.errors} corrupted replies`);
  const roundTrips = result.rps * (SECONDS + 1); // the warm-up second runs at about the same rate
  return { rate: result[w.metric], cpuUs: ((cpuSeconds(pid) - before) * 1e6) / roundTrips };
}

const fmt = (v) => (v === undefined ? "-" : v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0));

async function runSuite(suite) {
  const chosen = Object.keys(suite.servers).filter((k) => !values.only || values.only.split(",").includes(k));
  const results = Object.fromEntries(suite.workloads.map((w) => [w.name, {}])); // [workload][server] = rates
  const cpu = Object.fromEntries(suite.workloads.map((w) => [w.name, {}])); // [workload][server] = CPU µs per round trip
  // Runs interleave the servers, so a noisy moment on the shared machine hits all of them.
  for (let run = 0; run < RUNS; run++) {
    for (const key of chosen) {
      const server = await startServer(suite.servers[key]);
      try {
        for (const w of suite.workloads) {
          const { rate, cpuUs } = load(server.port, { ...w, mode: suite.servers[key].mode ?? w.mode }, server.child.pid);
          (results[w.name][key] ??= []).push(rate);
          (cpu[w.name][key] ??= []).push(cpuUs);
          process.stderr.write(`run ${run + 1}/${RUNS} ${suite.servers[key].label.padEnd(18)} ${w.name.padEnd(18)} ${results[w.name][key].at(-1).toFixed(0)}\n`);
        }
      } finally {
        await stopServer(server);
      }
    }
  }
  // Ratios are the median of per-run ratios: run k of every server ran minutes apart at
  // most, so pairing them cancels the slow drifts of a shared machine.
  const ratio = (table, w, a, b) => {
    const xs = table[w.name][a]?.map((v, i) => v / table[w.name][b]?.[i]).filter(Number.isFinite);
    return xs?.length ? `${median(xs).toFixed(2)}×` : "-";
  };
  const pinning = chosen.some((k) => suite.servers[k].cpus) ? "servers marked as such may use both cores" : "server and client pinned to separate cores";
  console.log(`\n${suite.title}, median of ${RUNS} runs of ${SECONDS} s (round trips/s, or MB/s); ratios are medians of per-run ratios;\n${pinning}\n`);
  const header = ["workload", "metric", ...chosen.map((k) => suite.servers[k].label), ...suite.ratios.map(([a, b]) => `${a}/${b}`)];
  const rows = suite.workloads.flatMap((w) => [
    [w.name, w.metric === "rps" ? "rt/s" : "MB/s", ...chosen.map((k) => fmt(median(results[w.name][k]))),
      ...suite.ratios.map(([a, b]) => ratio(results, w, a, b))],
    ["", "CPU µs/rt", ...chosen.map((k) => median(cpu[w.name][k]).toFixed(2)), ...suite.ratios.map(([a, b]) => ratio(cpu, w, a, b))],
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [header, widths.map((n) => "-".repeat(n)), ...rows]) {
    console.log(r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  "));
  }
}

const suites = (values.suite ?? [...Object.keys(SUITES), "upload", "pubsub", "resp", "recovery"].join(",")).split(",");
for (const name of suites.filter((n) => SUITES[n])) await runSuite(SUITES[name]);
if (suites.includes("upload")) await uploadBench(RUNS);
if (suites.includes("pubsub")) await pubsubBench(RUNS, SECONDS, loadgen);
if (suites.includes("resp")) await respBench(RUNS);
if (suites.includes("recovery")) await recoveryBench();

// The simulator row: one million virtual connections through the same module.
const sim = execFileSync(process.execPath, [path.join(here, "..", "dist", "src", "cli.js"), "simulate", "--protocol", "line",
  "--connections", "1000000", "--seed", "1", "--faults", "all"], { encoding: "utf8" });
const rate = /dispatch ([\d.]+)M events\/s/.exec(sim)?.[1];
const perConn = /memory\/conn ([\d.]+)/.exec(sim)?.[1];
console.log(`\nSimulator, 1,000,000 connections (10,000 active, all faults): ${rate}M events/s in dispatch, ${perConn} B of module memory per idle connection`);
