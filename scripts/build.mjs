#!/usr/bin/env node
// Builds everything `npm install` must build, with no manual step:
//   1. the WebAssembly module (asc)       → dist/reactor.wasm
//   2. the native addon (node-gyp)        → build/Release/wasm_reactor.node
//   3. the TypeScript (tsc)               → dist/src, dist/host
// node-gyp gets --nodedir pointing at this Node's own headers, so nothing is downloaded
// and no npm config is needed. node-gyp rebuild wipes build/, so the module lives in dist/.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const only = process.argv[2]; // optional: wasm | addon | ts
const toolBin = (pkg, ...file) => path.join(path.dirname(require.resolve(`${pkg}/package.json`)), "bin", ...file);

function run(label, args) {
  const started = Date.now();
  process.stdout.write(`wasm-reactor build: ${label} ... `);
  try {
    execFileSync(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    process.stdout.write("failed\n");
    process.stderr.write(String(err.stdout ?? "") + String(err.stderr ?? ""));
    process.exit(1);
  }
  process.stdout.write(`ok (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}

/** The prefix holding include/node/node_api.h for the running Node, if it has one. */
function nodeHeadersDir() {
  const candidates = [path.resolve(path.dirname(process.execPath), ".."), process.env.npm_config_nodedir];
  return candidates.find((dir) => dir && existsSync(path.join(dir, "include", "node", "node_api.h")));
}

if (!only || only === "wasm") {
  run("WebAssembly module", [toolBin("assemblyscript", "asc.js"), "assembly/index.ts", "--config", "asconfig.json"]);
}
if (!only || only === "addon") {
  const nodedir = nodeHeadersDir();
  const args = [toolBin("node-gyp", "node-gyp.js"), "rebuild", "--jobs=2"];
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  run("native addon", args);
}
if (!only || only === "ts") {
  run("TypeScript", [toolBin("typescript", "tsc"), "-p", "tsconfig.json"]);
}
