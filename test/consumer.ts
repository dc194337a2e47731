// The package as a user gets it: `npm pack`, then `npm install` of the tarball into a
// fresh project, with a PATH that has node, npm and sh but no compiler (so nothing can
// quietly be built from source). The registry is only asked for what the lockfile of a
// real user would fetch (our few runtime dependencies), preferably from npm's cache.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** A scratch folder removed by cleanup(). */
export const scratch = mkdtempSync(path.join(tmpdir(), "wr-consumer-"));

export function cleanup(): void {
  rmSync(scratch, { recursive: true, force: true });
}

/** A bin folder with node, npm, npx and sh only: no cc, g++, make or python. */
export const noCompilerPath = (() => {
  const bin = path.join(scratch, "bin");
  mkdirSync(bin);
  const npmBin = path.dirname(execFileSync("sh", ["-c", "command -v npm"], { encoding: "utf8" }).trim());
  symlinkSync(process.execPath, path.join(bin, "node"));
  for (const tool of ["npm", "npx"]) symlinkSync(path.join(npmBin, tool), path.join(bin, tool));
  symlinkSync("/bin/sh", path.join(bin, "sh"));
  return bin;
})();

/** The environment a user's shell would give npm: none of the npm_* variables `npm test` set for us. */
export function userEnv(pathVar: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, PATH: pathVar, NO_COLOR: "1", ...extra };
}

/** `npm pack` of the built checkout (npm test runs after the build); the tarball's path. */
export function pack(): string {
  const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", scratch],
    { cwd: repoRoot, encoding: "utf8", env: userEnv(process.env.PATH ?? "") });
  return path.join(scratch, JSON.parse(out)[0].filename);
}

/** A fresh project folder with a package.json of this module type. */
export function project(name: string, type: "module" | "commonjs" = "module"): string {
  const dir = path.join(scratch, name);
  mkdirSync(dir);
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, version: "1.0.0", private: true, type }));
  return dir;
}

export interface NpmRun {
  status: number | null;
  output: string;
  seconds: number;
}

/** `npm <args>` in dir as a user would run it; PATH defaults to the one without a compiler. */
export function npm(dir: string, args: string[], env: NodeJS.ProcessEnv = userEnv(noCompilerPath)): NpmRun {
  const started = Date.now();
  const r = spawnSync("npm", [...args, "--foreground-scripts"], { cwd: dir, env, encoding: "utf8", timeout: 180_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}`, seconds: (Date.now() - started) / 1000 };
}

/** `npm install <spec>` in dir, from npm's cache where it can. */
export function npmInstall(dir: string, spec: string, env?: NodeJS.ProcessEnv): NpmRun {
  return npm(dir, ["install", spec, "--prefer-offline", "--no-audit", "--no-fund"], env);
}

/** Bytes under a folder (files' sizes, as `du --apparent-size` counts them). */
export function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(full);
    else if (entry.isFile()) total += statSync(full).size;
  }
  return total;
}

/** Runs `node file` in dir (user's environment); stdout, or throws with what it printed. */
export function runNode(dir: string, args: string[], env: NodeJS.ProcessEnv = userEnv(noCompilerPath)): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd: dir, env, encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** A copy of the tarball without prebuilds/: what a platform we ship no binary for installs. */
export function withoutPrebuilds(tarball: string): string {
  const dir = path.join(scratch, "repack");
  mkdirSync(dir);
  execFileSync("tar", ["xzf", tarball, "-C", dir]);
  rmSync(path.join(dir, "package", "prebuilds"), { recursive: true, force: true });
  const out = path.join(scratch, "wasm-reactor-no-prebuilds.tgz");
  execFileSync("tar", ["czf", out, "-C", dir, "package"]);
  return out;
}
