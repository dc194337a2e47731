// C10K on real sockets: 10,000 connections spread over 20 ports, all idle, then all
// active, then all closed, with every byte accounted for. The server runs in its own
// process, so each side has the machine's 20,000 open files to itself.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import type net from "node:net";
import type { ServerStats } from "../src/server.js";
import { connect, receive } from "./helpers.js";

const CONNECTIONS = 10_000;
const MESSAGE = 16;

function ask<T>(child: ChildProcess, message: string, key: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: Record<string, T>) => {
      if (!(key in m)) return;
      child.off("message", on);
      resolve(m[key]);
    };
    child.on("message", on);
    child.send(message);
  });
}

async function connectAll(ports: number[]): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  for (let i = 0; i < CONNECTIONS; i += 500) {
    // In waves, so the listen backlogs never overflow.
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(500, CONNECTIONS - i) }, (_, k) => connect(ports[(i + k) % ports.length])))));
  }
  return sockets;
}

for (const [threads, backend] of [[1, "native"], [2, "native"], [1, "uring"], [2, "uring"]] as const) {
  test(`10,000 connections over 20 ports (${threads} thread${threads > 1 ? "s" : ""}, ${backend}): idle, active, closed, every byte accounted for`, async () => {
    const child = fork("test/fixtures/stats-server.ts", [JSON.stringify({ protocol: "echo", ports: 20, threads, backend })],
      { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    try {
      const [{ ports }] = (await once(child, "message")) as [{ ports: number[] }];
      assert.is(ports.length, 20);
      const sockets = await connectAll(ports);
      let stats = await ask<ServerStats>(child, "stats", "stats");
      /** Polls the server's counters until `done` holds (or 10 s pass). */
      const pollUntil = async (done: (s: ServerStats) => boolean) => {
        for (let tries = 0; tries < 200 && !done(stats); tries++) {
          await new Promise((r) => setTimeout(r, 50));
          stats = await ask<ServerStats>(child, "stats", "stats");
        }
      };
      await pollUntil((s) => s.connections === CONNECTIONS);
      assert.is(stats.connections, CONNECTIONS);
      const idle = stats.connectionMemoryBytes / CONNECTIONS;
      console.log(`    idle: ${CONNECTIONS} connections, ${idle.toFixed(1)} B of module memory each (${threads} thread(s))`);
      assert.ok(idle <= 128, `${idle} B per idle connection`);

      const replies = await Promise.all(sockets.map((s, i) => {
        const message = Buffer.from(`c${String(i).padStart(MESSAGE - 1, "0")}`);
        const reply = receive(s, MESSAGE);
        s.write(message);
        return reply.then((r) => r.equals(message));
      }));
      assert.ok(replies.every(Boolean), "a reply differs");
      for (const s of sockets) s.destroy();
      await pollUntil((s) => s.connections === 0);
      assert.is(stats.connections, 0);
      assert.is(stats.accepted, CONNECTIONS);
      assert.is(stats.bytesIn, CONNECTIONS * MESSAGE);
      assert.is(stats.bytesOut, CONNECTIONS * MESSAGE);
      await ask(child, "close", "closed");
    } finally {
      child.kill("SIGKILL");
    }
  });
}

test.run();
