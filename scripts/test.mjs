#!/usr/bin/env node
// Runs every test/*.test.ts in its own Node process (through tsx), so a crash in one
// file cannot take the others' results with it, and prints uvu's output followed by
// one plain summary line: "N passed, N failed".
// A file that is still running 10 s after uvu printed its summary left something open
// (a server, a socket): that is a failure too, and the process is killed.
import { spawn, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const only = process.argv.slice(2);
const files = readdirSync(path.join(root, "test"))
  .filter((f) => f.endsWith(".test.ts") && (only.length === 0 || only.some((o) => f.includes(o))))
  .sort();
const FILE_TIMEOUT_MS = 240_000;
const EXIT_GRACE_MS = 10_000;

function runFile(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join("test", file)], {
      cwd: root, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let note = "";
    let grace;
    const kill = (why) => {
      note = why;
      child.kill("SIGKILL");
    };
    const timer = setTimeout(() => kill(`timed out after ${FILE_TIMEOUT_MS / 1000} s`), FILE_TIMEOUT_MS);
    const collect = (chunk) => {
      out += chunk;
      if (!grace && /Duration:/.test(out)) grace = setTimeout(() => kill("did not exit after its tests: something was left open"), EXIT_GRACE_MS);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("close", (code) => {
      clearTimeout(timer);
      clearTimeout(grace);
      resolve({ out, code, note });
    });
  });
}

let passed = 0;
let failed = 0;

// tsx strips types without checking them, so the tests (and what they import) are
// type-checked first; a type error counts as one failure.
const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
const typecheck = spawnSync(process.execPath, [tsc, "-p", "test/tsconfig.json"], { cwd: root, encoding: "utf8" });
if (typecheck.status === 0) {
  passed++;
  console.log("== type check of test/, src/, host/: ok");
} else {
  failed++;
  console.log(`== type check of test/, src/, host/: failed\n${typecheck.stdout}${typecheck.stderr}`);
}

for (const file of files) {
  const started = Date.now();
  const { out, code, note } = await runFile(file);
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  // A file that crashed, hung or exited non-zero counts at least one failure.
  const bad = Math.max(total - ok, code === 0 && total > 0 && !note ? 0 : 1);
  passed += ok;
  failed += bad;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`\n== ${file}: ${ok} passed, ${bad} failed (${seconds} s)${note ? ` [${note}]` : ""}`);
  if (bad > 0 || process.env.VERBOSE) console.log(out);
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
