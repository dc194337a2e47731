#!/usr/bin/env node
// The soak: mixed traffic on every protocol (scripts/soak/clients.mjs) against one
// server process (scripts/soak/server.mjs) for N minutes, sampling its RSS, module
// memory, open fds and event-loop delay every few seconds. It passes when, after the
// warm-up, each stays within its bound (below) and every well-behaved client got every
// byte. Writes <out>.json and <out>.svg (the samples, plotted).
//   npm run soak -- --minutes 30 [--out soak-report]
import { fork } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runClients } from "./soak/clients.mjs";
import { renderSvg } from "./soak/report.mjs";

const MIB = 1 << 20;

export async function soak(minutes, out) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const server = fork(path.join(here, "soak", "server.mjs"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ports = await new Promise((resolve, reject) => {
    server.once("message", (m) => resolve(m.ports));
    server.once("exit", (code) => reject(new Error(`the soak server exited (${code}) before listening`)));
  });
  const started = Date.now();
  const durationMs = minutes * 60_000;
  const sampleMs = Math.max(2000, durationMs / 120);
  const samples = [];
  const sample = () => new Promise((resolve) => {
    server.once("message", (m) => resolve(samples.push({ t: Date.now() - started, ...m })));
    server.send("sample");
  });
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sample();
      await new Promise((r) => setTimeout(r, sampleMs));
    }
  })();
  const clients = await runClients(ports, started + durationMs);
  sampling = false;
  await sampler;
  server.send("stop");
  await new Promise((r) => server.once("exit", r));

  // The bounds, after a warm-up of a fifth of the run (at least 20 s): growth past the
  // warm level is what a leak looks like.
  const warmMs = Math.max(20_000, durationMs / 5);
  const warm = samples.filter((s) => s.t >= warmMs);
  const first = warm.slice(0, Math.max(1, Math.floor(warm.length / 4)));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const bounds = {
    rssBytes: median(first.map((s) => s.rssBytes)) * 1.25 + 48 * MIB,
    moduleMemoryBytes: 96 * MIB,
    fds: median(first.map((s) => s.fds)) + 128,
    loopDelayP99Ms: 250,
  };
  const breaches = Object.entries(bounds).flatMap(([key, bound]) => {
    const worst = Math.max(...warm.map((s) => s[key]));
    return worst > bound ? [`${key}: ${worst.toFixed(0)} > bound ${bound.toFixed(0)}`] : [];
  });
  const failedClients = Object.entries(clients).filter(([, r]) => r.failed).map(([name, r]) => `${name}: ${r.failed} failed (${r.wrong.join("; ")})`);
  const report = { minutes, samples, bounds, clients, breaches, failedClients, passed: breaches.length === 0 && failedClients.length === 0 && warm.length > 0 };
  writeFileSync(`${out}.json`, `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(`${out}.svg`, renderSvg(samples, bounds));
  return report;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { minutes: { type: "string", default: "30" }, out: { type: "string", default: "soak-report" } } });
  const report = await soak(Number(values.minutes), values.out);
  const last = report.samples.at(-1);
  console.log(`soak: ${report.minutes} min, ${report.samples.length} samples; last: RSS ${(last.rssBytes / MIB).toFixed(0)} MiB, `
    + `module memory ${(last.moduleMemoryBytes / MIB).toFixed(0)} MiB reserved (${(last.moduleMemoryInUseBytes / MIB).toFixed(1)} in use), `
    + `${last.fds} fds, loop delay p99 ${last.loopDelayP99Ms.toFixed(1)} ms, ${last.traps} traps isolated`);
  for (const [name, r] of Object.entries(report.clients)) console.log(`  ${name.padEnd(11)} ${String(r.rounds).padStart(6)} rounds${r.failed ? `, ${r.failed} FAILED: ${r.wrong.join("; ")}` : ""}`);
  for (const b of report.breaches) console.log(`  bound broken: ${b}`);
  console.log(`soak: ${report.passed ? "passed" : "FAILED"} (report: ${values.out}.json, ${values.out}.svg)`);
  process.exit(report.passed ? 0 : 1);
}
