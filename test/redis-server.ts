// A real redis-server for one test, on a free port (Debian's redis-server and redis-tools;
// .ci/run installs them), and redis-cli against it.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { createServer } from "../src/index.js";
import { HOST, sleep } from "./helpers.js";

export function requireRedisTools(tools: string[]): void {
  for (const tool of tools) {
    if (!["/usr/bin", "/usr/local/bin"].some((dir) => existsSync(`${dir}/${tool}`))) {
      throw new Error(`${tool} is not installed: apt-get install redis-tools redis-server (.ci/run does this)`);
    }
  }
}

export const run = (command: string, args: string[]) => promisify(execFile)(command, args, { encoding: "utf8", timeout: 60_000 });

/** redis-cli's output for one command (asynchronously: a server under test may run in this process). */
export async function cli(port: number, args: string[]): Promise<string> {
  const r = await run("redis-cli", ["-h", HOST, "-p", String(port), ...args]).catch((err) => err);
  return `${r.stdout}${r.stderr}`.trim();
}

/** How many clients subscribe to the channel in Redis (PUBSUB NUMSUB). */
export async function channelSubscribers(port: number, channel: string): Promise<number> {
  return Number((await cli(port, ["PUBSUB", "NUMSUB", channel])).split("\n").pop());
}

export interface RedisServer {
  port: number;
  child: ChildProcess;
}

/** A free port (bound and released). */
export async function freePort(): Promise<number> {
  const probe = await createServer({ host: HOST, port: 0 }).listen();
  const port = probe.address()!.port;
  await probe.close();
  return port;
}

/** Starts redis-server (no persistence) on `port`, or a free one; resolves once it answers PING. */
export async function startRedis(port?: number): Promise<RedisServer> {
  const at = port ?? await freePort();
  const child = spawn("redis-server", ["--port", String(at), "--bind", HOST, "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  for (let i = 0; i < 100 && (await cli(at, ["PING"])) !== "PONG"; i++) await sleep(50);
  return { port: at, child };
}

/** Stops it and waits until it is gone. */
export async function stopRedis(redis: RedisServer): Promise<void> {
  if (redis.child.exitCode !== null || redis.child.signalCode !== null) return;
  const gone = new Promise((r) => redis.child.once("exit", r));
  redis.child.kill("SIGKILL");
  await gone;
}
