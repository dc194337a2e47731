// Where the built artifacts live, found from this file whether it runs from
// host/ (tests, through tsx) or from dist/host/ (the published build).
import { existsSync, readFileSync } from "node:fs";
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
/** The built WebAssembly module of a built-in protocol (scripts/build.mjs). */
export function protocolModulePath(protocol: string): string {
  return path.join(root, "dist", `${protocol}.wasm`);
}

/** This package's version, from its package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }).version;
}
