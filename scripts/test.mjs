#!/usr/bin/env node
// Runs every test/*.test.ts in its own Node process (through tsx), so a crash in one
// file cannot take the others' results with it, and prints uvu's output followed by
// one plain summary line: "N passed, N failed".
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const only = process.argv.slice(2);
const files = readdirSync(path.join(root, "test"))
  .filter((f) => f.endsWith(".test.ts") && (only.length === 0 || only.some((o) => f.includes(o))))
  .sort();
const FILE_TIMEOUT_MS = 180_000;

let passed = 0;
let failed = 0;
for (const file of files) {
  const started = Date.now();
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join("test", file)], {
    cwd: root, encoding: "utf8", timeout: FILE_TIMEOUT_MS, env: { ...process.env, NO_COLOR: "1" },
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = (r.stdout ?? "") + (r.stderr ?? "");
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  // A file that crashed, timed out or exited non-zero counts at least one failure.
  const bad = Math.max(total - ok, r.status === 0 && total > 0 ? 0 : 1);
  passed += ok;
  failed += bad;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`\n== ${file}: ${ok} passed, ${bad} failed (${seconds} s)${r.error ? ` [${r.error.message}]` : ""}`);
  if (bad > 0 || process.env.VERBOSE) console.log(out);
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
