#!/usr/bin/env node
// Builds what the package ships, from a checkout (`npm install` runs it as `prepare`,
// and so does `npm pack`):
//   1. the WebAssembly modules (asc), one a protocol → dist/<protocol>.wasm
//   2. the native addon, as a prebuilt binary        → prebuilds/<platform>-<arch>/*.node
//      (prebuildify: one N-API build serves every Node version; node-gyp-build loads it)
//   3. the TypeScript (tsc), JS and declarations     → dist/src, dist/host
// node-gyp gets the running Node's own headers (npm_config_nodedir), so nothing is
// downloaded and no npm config is needed. node-gyp rebuild wipes build/, so the module
// lives in dist/. A user's install never runs this: see scripts/install.cjs.
import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const only = process.argv[2]; // optional: wasm | addon | ts
/** The path of a dev dependency's command-line script, from its package.json "bin". */
function toolBin(pkg, command = pkg) {
  const manifest = require.resolve(`${pkg}/package.json`);
  const { bin } = require(manifest);
  return path.join(path.dirname(manifest), typeof bin === "string" ? bin : bin[command]);
}

function run(label, args, env = process.env) {
  const started = Date.now();
  process.stdout.write(`wasm-reactor build: ${label} ... `);
  try {
    execFileSync(process.execPath, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
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

// One module per built-in protocol: the core (assembly/*.ts) and that protocol's hooks,
// from its entry file. host/module.ts loads dist/<protocol>.wasm.
const MODULES = {
  echo: "assembly/echo/module.ts",
  line: "assembly/line/module.ts",
  http: "assembly/http/module.ts",
  ws: "assembly/ws/module.ts",
  "ws-echo": "assembly/ws/echo-module.ts",
};

if (!only || only === "wasm") {
  for (const [name, entry] of Object.entries(MODULES)) {
    run(`WebAssembly module ${name}`, [toolBin("assemblyscript", "asc"), entry, "--config", "asconfig.json",
      "--outFile", `dist/${name}.wasm`, "--textFile", `dist/${name}.wat`]);
  }
}
if (!only || only === "addon") {
  const nodedir = nodeHeadersDir();
  // prebuildify moves the build out of build/Release; an older local build left there
  // would shadow the prebuilt binary (node-gyp-build looks in build/ first).
  rmSync(path.join(root, "prebuilds"), { recursive: true, force: true });
  run("native addon (prebuilt binary)", [toolBin("prebuildify"), "--napi", "--strip", "--tag-libc"],
    nodedir ? { ...process.env, npm_config_nodedir: nodedir, JOBS: "2" } : { ...process.env, JOBS: "2" });
}
if (!only || only === "ts") {
  run("TypeScript", [toolBin("typescript", "tsc"), "-p", "tsconfig.json"]);
}
