// Handler modules of test/fixtures/handlers, built by the real `wasm-reactor build` (with
// this checkout's AssemblyScript) once per test process, into a folder removed at exit.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runBuild } from "../src/build.js";

const dir = mkdtempSync(path.join(tmpdir(), "wr-modules-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

export function fixtureSource(name: string): string {
  return path.join("test", "fixtures", "handlers", `${name}.ts`);
}

/** Builds `source` (a handler file) once, with build `flags`; the module's path (also of a module the build refuses after compiling it). */
export function buildModule(source: string, name = path.basename(source, ".ts"), flags: string[] = []): string {
  const out = path.join(dir, `${name}.wasm`);
  if (existsSync(out)) return out;
  try {
    if (runBuild([source, "-o", out, ...flags]) !== 0) throw new Error(`wasm-reactor build ${source} failed`);
  } catch (err) {
    if (!existsSync(out)) throw err; // compiled, but refused by the build's own check: the refusal tests want it
  }
  return out;
}

/** The module built from test/fixtures/handlers/<name>.ts. */
export function fixtureModule(name: string): string {
  return buildModule(fixtureSource(name), name);
}
