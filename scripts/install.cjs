#!/usr/bin/env node
// `npm install wasm-reactor` runs this (the package's "install" script). It never fails
// the install: the package always works, on the node:net host at worst.
//   1. The prebuilt addon (prebuilds/, found by node-gyp-build) loads: nothing to do.
//   2. Otherwise (another platform or libc, or --build-from-source), on Linux, compile the
//      addon with the node-gyp that npm provides to install scripts.
//   3. If that fails (no compiler, no Python, no headers), say so in one line; the server
//      then runs on the node:net host, with the notice createServer() prints.
// A compile can only improve things: node-gyp wipes build/, so a working build there is
// kept aside and put back if the new one fails. prebuilds/ is never touched.
// In a checkout of the repository the "prepare" script builds everything instead.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const NOTICE = "wasm-reactor:";

if (fs.existsSync(path.join(root, "scripts", "build.mjs"))) process.exit(0); // a checkout: prepare builds

/** Whether the addon node-gyp-build finds loads in a fresh Node (a broken binary must not crash this script). */
function addonLoads() {
  const probe = `require(require.resolve("node-gyp-build", { paths: [${JSON.stringify(root)}] }))(${JSON.stringify(root)})`;
  return spawnSync(process.execPath, ["-e", probe], { stdio: "ignore" }).status === 0;
}

function buildFromSource() {
  return process.env.npm_config_build_from_source === "true" || process.env.npm_config_build_from_source === "wasm-reactor";
}

/** Runs node-gyp rebuild (npm's own when run by npm), its output to a log file; true on success. */
function compile(log) {
  const gyp = process.env.npm_config_node_gyp;
  const [command, args] = gyp ? [process.execPath, [gyp, "rebuild"]] : ["node-gyp", ["rebuild"]];
  const out = fs.openSync(log, "w");
  const result = spawnSync(command, args, { cwd: root, stdio: ["ignore", out, out] });
  fs.closeSync(out);
  return result.status === 0;
}

/** Moves a previous build/Release addon aside; returns a function that puts it back. */
function keepAside() {
  const built = path.join(root, "build", "Release", "wasm_reactor.node");
  if (!fs.existsSync(built)) return () => {};
  const saved = path.join(os.tmpdir(), `wasm-reactor-${process.pid}.node`);
  fs.copyFileSync(built, saved);
  return () => {
    fs.mkdirSync(path.dirname(built), { recursive: true });
    fs.copyFileSync(saved, built);
  };
}

function main() {
  if (!buildFromSource() && addonLoads()) return;
  if (process.platform !== "linux") {
    console.warn(`${NOTICE} the native epoll host is Linux-only; the server will use the node:net host`);
    return;
  }
  const log = path.join(os.tmpdir(), `wasm-reactor-build-${process.pid}.log`);
  const restore = keepAside();
  if (compile(log) && addonLoads()) return;
  restore();
  const fallback = addonLoads() ? "the addon already here still works" : "the server will use the node:net host";
  console.warn(`${NOTICE} could not compile the native addon (see ${log}); ${fallback}`);
}

try {
  main();
} catch (err) {
  console.warn(`${NOTICE} native addon set-up skipped (${err.message}); the server will use the node:net host`);
}
