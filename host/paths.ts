// Where the built artifacts live, found from this file whether it runs from
// host/ (tests, through tsx) or from dist/host/ (the published build).
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("wasm-reactor: cannot find the package root");
    dir = parent;
  }
  return dir;
}

export const root = packageRoot();
export const wasmPath = path.join(root, "dist", "reactor.wasm");
/** The native addon; WASM_REACTOR_ADDON_PATH points elsewhere (a packager's own build). */
export const addonPath = process.env.WASM_REACTOR_ADDON_PATH ?? path.join(root, "build", "Release", "wasm_reactor.node");
