// Servers in processes of their own (the CLI, an example, a consumer's program): start
// one, read the port from the first line it prints, and always kill it afterwards.
import * as assert from "uvu/assert";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";

/** A running server process: its first stdout line, the port named in it, what it wrote to stderr so far. */
export interface Serving {
  child: ChildProcess;
  line: string;
  port: number;
  stderr: () => string;
}

export interface ProcessOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Runs `command args`, waits for its first line ("… port N …"), runs body, then kills it whatever happens. */
export async function withServing(command: string, args: string[], body: (s: Serving) => Promise<void>,
  options: ProcessOptions = {}): Promise<void> {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: options.env ?? process.env, cwd: options.cwd });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  try {
    const first = await Promise.race([once(child.stdout!, "data"), once(child, "exit").then(() => [""])]);
    const line = String(first[0]);
    const port = Number(/ports? (\d+)/.exec(line)?.[1]);
    assert.ok(port > 0, `no port in: ${line}${stderr}`);
    await body({ child, line, port, stderr: () => stderr });
  } finally {
    child.kill("SIGKILL");
  }
}

/** SIGTERM: resolves with the exit code a graceful stop ends in. */
export async function terminate(child: ChildProcess): Promise<number | null> {
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  return (await exited)[0] as number | null;
}
