// wasm-reactor build: compiles a user's handler (AssemblyScript, against the SDK in this
// package's assembly/) into a module every host can run. The compiler is the user's:
// AssemblyScript is a dependency of their project, not a runtime dependency of ours.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadModule } from "../host/module.js";
import { root } from "../host/paths.js";
import { UsageError } from "./simulate.js";

export const BUILD_USAGE = `Usage: wasm-reactor build <handler.ts> -o <handler.wasm>

Compile a handler written in AssemblyScript against the SDK (docs/HANDLERS.md) into a
module for createServer({ module }), wasm-reactor serve --module and replay --module.
Uses the AssemblyScript compiler of your project: npm install --save-dev assemblyscript.

Options:
  -o, --out <file>   the module to write (default: the handler's name with .wasm)
  --debug            keep names and skip optimization (readable stack traces)
  --unmetered        leave your code out of the CPU budget (a little faster; a loop that
                     never ends then hangs the server's loop instead of trapping)`;

/** The user's asc: resolved from their project (the working directory), not from ours. */
function userCompiler(): string {
  const require = createRequire(path.join(process.cwd(), "package.json"));
  try {
    const manifest = require.resolve("assemblyscript/package.json");
    const { bin } = require(manifest) as { bin: Record<string, string> };
    return path.join(path.dirname(manifest), bin.asc);
  } catch {
    throw new UsageError("build needs the AssemblyScript compiler in your project: npm install --save-dev assemblyscript");
  }
}

export function runBuild(argv: string[]): number {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true,
    options: { out: { type: "string", short: "o" }, debug: { type: "boolean" }, unmetered: { type: "boolean" },
      help: { type: "boolean", short: "h" } } });
  if (values.help) {
    console.log(BUILD_USAGE);
    return 0;
  }
  const [entry, ...extra] = positionals;
  if (entry === undefined) throw new UsageError("build needs a handler file: wasm-reactor build handler.ts -o handler.wasm");
  if (extra.length > 0) throw new UsageError(`build takes one handler file, got also "${extra.join(" ")}"`);
  const out = path.resolve(values.out ?? entry.replace(/\.ts$/, "") + ".wasm");
  const asc = userCompiler();
  // "wasm-reactor/assembly/…" resolves to this very package, so a module is always built
  // against the SDK and ABI of the wasm-reactor that will run it.
  const packages = mkdtempSync(path.join(tmpdir(), "wasm-reactor-build-"));
  try {
    symlinkSync(root, path.join(packages, "wasm-reactor"), "dir");
    const optimize = values.debug ? ["--debug", "--optimizeLevel", "0"] : [];
    // asc takes the runtime as a path from the working directory, without ".ts".
    const runtime = path.relative(process.cwd(), path.join(root, "assembly", "runtime"));
    // Transforms: one meters the handler's code for the CPU budget (src/fuel-transform.ts),
    // one exports its globals so that checkpoints hold them (src/state-transform.ts).
    const transform = (name: string) => ["--transform", path.join(root, "dist", "src", `${name}.js`)];
    const meter = [...(values.unmetered ? [] : transform("fuel-transform")), ...transform("state-transform")];
    const r = spawnSync(process.execPath, [asc, path.resolve(entry), "--config", path.join(root, "asconfig.json"),
      "--runtime", runtime, "--path", packages, ...meter, "--outFile", out,
      // As much first memory as the handler's static data needs (the host reads it from the module).
      "--initialMemory", "0", ...optimize], { stdio: "inherit" });
    if (r.status !== 0) return 1; // the compiler has said why, with file and line
  } finally {
    rmSync(packages, { recursive: true, force: true });
  }
  loadModule(out); // a handler that forgot to export the door is told so now, not at serve time
  console.log(`wasm-reactor: built ${path.relative(process.cwd(), out) || out}`);
  return 0;
}
