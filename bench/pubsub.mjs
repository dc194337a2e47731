// Pub/sub broadcast: one topic, 1000 subscribers and one publisher (itself a subscriber),
// 64-byte binary messages. wasm-reactor's server.publish (framed once, sent to every
// subscriber by the module) against the ws package sending to each client in a loop.
// The load client (bench/c/loadgen.c --mode pubsub) publishes with a window of messages
// in flight and checks every frame every subscriber gets. 16 in flight lets the module
// put several messages in one send to each subscriber; 1 in flight cannot, so every
// delivery is a send of its own for both servers. Reported: messages delivered per
// second (to all subscribers: a message reaching 1000 of them is 1000 deliveries), the
// server's CPU µs per delivery over exactly the measured seconds (from /proc), how busy
// each core was (the server's should be the one that is full), and wasm/ws as the median
// of per-run ratios. Runs interleave the servers; server on core 0, client on core 1.
import { spawn } from "node:child_process";
import net from "node:net";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cpuSeconds, median, pin } from "./common.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const node = (file, ...args) => [process.execPath, [path.join(here, "servers", file), "0", ...args]];
// Each server is one or more processes (each prints `listening <port>`); the subscribers
// are spread over their ports round robin (the publisher on the first) and the server's
// CPU is the sum of its processes'. A cross-process server (say two, joined through
// Redis) is one more entry here.
// `redis`: the processes take a Redis URL (a redis-server the bench starts, pinned with
// the servers, its CPU counted as theirs); skipped where redis-server is not installed.
const PEERS = {
  wasm: { label: "wasm-reactor publish", processes: [node("wasm-pubsub.mjs")] },
  ws: { label: "ws, loop over clients", processes: [node("ws-pubsub.mjs")] },
  redis: { label: "wasm, 2 processes + Redis", processes: [node("wasm-pubsub.mjs"), node("wasm-pubsub.mjs")], redis: true },
};
const WORKLOADS = [
  { name: "1000 subscribers, 64 B, 16 in flight", conns: 1000, size: 64, window: 16 },
  { name: "1000 subscribers, 64 B, 1 in flight", conns: 1000, size: 64, window: 1 },
];
const RATIOS = [["wasm", "ws"], ["redis", "wasm"]];

function startProcess(cmd, label) {
  return new Promise((resolve, reject) => {
    const [exe, args] = pin(0, ...cmd);
    const child = spawn(exe, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once("exit", (code) => reject(new Error(`${label} exited (${code}) before listening`)));
  });
}

async function stopProcess({ child }) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** One run: the client's result, and the server's CPU seconds between its "measuring" line and its result. */
function load(loadgen, procs, w, seconds, extraPids = []) {
  const pids = [...procs.map((p) => p.child.pid), ...extraPids];
  const cpu = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const [cmd, args] = pin(1, loadgen, ["--port", procs.map((p) => p.port).join(","), "--conns", String(w.conns),
    "--size", String(w.size), "--seconds", String(seconds), "--warmup", "1", "--mode", "pubsub", "--window", String(w.window)]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
    const timer = setTimeout(() => child.kill("SIGKILL"), (seconds + 60) * 1000);
    let out = "";
    let from;
    let result;
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (from === undefined && out.includes("measuring\n")) from = cpu();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line && !result) result = { ...JSON.parse(line), serverCpu: cpu() - from };
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (!result) return reject(new Error(`pubsub load client exited (${code}) without a result`));
      if (result.errors > 0) return reject(new Error(`pubsub load client saw ${result.errors} wrong or missing messages`));
      if (result.closed > 0) return reject(new Error(`the server closed ${result.closed} subscribers`));
      resolve(result);
    });
  });
}

const fmt = (v) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0));

/** A redis-server on a free port for the cross-process row, pinned with the servers; undefined if none is installed. */
async function startRedis() {
  if (!["/usr/bin", "/usr/local/bin"].some((d) => existsSync(`${d}/redis-server`))) return undefined;
  const port = await new Promise((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port: p } = probe.address();
      probe.close(() => resolve(p));
    });
  });
  const [exe, args] = pin(0, "redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
  const child = spawn(exe, args, { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    if (await new Promise((r) => net.connect(port, "127.0.0.1").once("connect", function () { this.destroy(); r(true); }).once("error", () => r(false)))) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url: `redis://127.0.0.1:${port}` };
}

export async function pubsubBench(runs, seconds, loadgen = path.join(here, ".bin", "loadgen")) {
  if (!existsSync(loadgen)) throw new Error(`no load client at ${loadgen} (node bench/run.mjs compiles it)`);
  const redis = await startRedis();
  try {
    await pubsubRuns(runs, seconds, loadgen, redis);
  } finally {
    redis?.child.kill("SIGKILL");
  }
}

async function pubsubRuns(runs, seconds, loadgen, redis) {
  const keys = Object.keys(PEERS).filter((k) => !PEERS[k].redis || redis);
  const cells = Object.fromEntries(WORKLOADS.map((w) => [w.name, {}])); // [workload][server] = { rate, cpuUs, use }[]
  for (let run = 0; run < runs; run++) {
    for (const key of keys) {
      const peer = PEERS[key];
      const procs = [];
      try {
        for (const [exe, args] of peer.processes) procs.push(await startProcess([exe, peer.redis ? [...args, redis.url] : args], peer.label));
        for (const w of WORKLOADS) {
          const r = await load(loadgen, procs, w, seconds, peer.redis ? [redis.child.pid] : []);
          const cell = { rate: r.rps, cpuUs: (r.serverCpu * 1e6) / r.deliveries, server: r.serverCpu / r.seconds, client: r.clientCpu };
          (cells[w.name][key] ??= []).push(cell);
          process.stderr.write(`pubsub run ${run + 1}/${runs} ${peer.label.padEnd(22)} ${w.name}: ${r.rps.toFixed(0)} deliveries/s, `
            + `${cell.cpuUs.toFixed(2)} µs CPU each, cores used: server ${cell.server.toFixed(2)}, client ${cell.client.toFixed(2)}\n`);
        }
      } finally {
        await Promise.all(procs.map(stopProcess));
      }
    }
  }
  const med = (w, key, field) => median(cells[w.name][key].map((c) => c[field]));
  const ratio = (w, a, b, field) => `${median(cells[w.name][a].map((c, i) => c[field] / cells[w.name][b][i][field])).toFixed(2)}×`;
  console.log("\nPub/sub broadcast: one publisher, binary messages to every subscriber of one topic (the publisher too);"
    + `\nmedian of ${runs} runs of ${seconds} s; ratios are medians of per-run ratios; server and client pinned to separate cores\n`);
  const header = ["workload", "metric", ...keys.map((k) => PEERS[k].label), ...RATIOS.map(([a, b]) => `${a}/${b}`)];
  const rows = WORKLOADS.flatMap((w) => [
    [w.name, "delivered/s", ...keys.map((k) => fmt(med(w, k, "rate"))), ...RATIOS.map(([a, b]) => ratio(w, a, b, "rate"))],
    ["", "CPU µs/delivery", ...keys.map((k) => med(w, k, "cpuUs").toFixed(3)), ...RATIOS.map(([a, b]) => ratio(w, a, b, "cpuUs"))],
    ["", "cores: server, client", ...keys.map((k) => `${med(w, k, "server").toFixed(2)}, ${med(w, k, "client").toFixed(2)}`),
      ...RATIOS.map(() => "")],
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [header, widths.map((n) => "-".repeat(n)), ...rows]) {
    console.log(r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  "));
  }
}
