// Out of file descriptors, a server must shed new connections cleanly (accept and
// close, the reserved-fd trick) and keep serving the ones it has, without spinning.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import net from "node:net";
import { closed, echoRoundTrip, HOST, sleep } from "./helpers.js";

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

/**
 * Connects and reports whether the server kept the connection (it echoes) or shed it
 * (closed or reset it, possibly before Node even reported the connect).
 */
async function probe(port: number): Promise<{ socket: net.Socket; kept: boolean }> {
  const socket = net.connect({ port, host: HOST });
  const shed = closed(socket).then(() => false);
  const connected = once(socket, "connect").then(() => true, () => false); // an early reset rejects
  if (!(await Promise.race([connected, shed]))) return { socket, kept: false };
  const echoed = echoRoundTrip(socket, Buffer.from("x"), 2000).then(() => true, () => false);
  return { socket, kept: await Promise.race([echoed, shed]) };
}

for (const backend of ["native", "uring"]) test(`at the descriptor limit new connections are shed, old ones served, no busy loop (${backend})`, async () => {
  const child = spawn("prlimit", ["--nofile=72:72", process.execPath, "--import", "tsx", "src/cli.ts",
    "serve", "--port", "0", "--host", HOST, "--backend", backend], { stdio: ["ignore", "pipe", "inherit"] });
  const clients: net.Socket[] = [];
  try {
    const [line] = await once(child.stdout!, "data");
    const port = Number(/port (\d+)/.exec(String(line))?.[1]);
    const results = [];
    for (let i = 0; i < 100; i++) {
      const r = await probe(port);
      clients.push(r.socket);
      results.push(r.kept);
    }
    const kept = results.filter(Boolean).length;
    assert.ok(kept > 5 && kept < 100, `kept ${kept} of 100 connections under a 72-descriptor limit`);
    assert.ok(results.slice(-10).every((k) => !k), "connections past the limit are shed");

    // Pending connections at the limit must not make the loop spin.
    // (Handlers attached at once: a reset can be emitted before a connect promise resolves.)
    const pending = Array.from({ length: 20 }, () => net.connect({ port, host: HOST }).on("error", () => {}));
    await sleep(100);
    const before = cpuTicks(child.pid!);
    await sleep(1000);
    const used = cpuTicks(child.pid!) - before;
    assert.ok(used < 30, `the server used ${used} ticks of CPU in 1 s while out of descriptors`);
    for (const p of pending) p.destroy();

    // The connections it kept still work, and once some close, new ones are served.
    const survivor = clients[results.indexOf(true)];
    assert.is((await echoRoundTrip(survivor, Buffer.from("still here"))).toString(), "still here");
    for (const c of clients) c.destroy();
    await sleep(200);
    const fresh = await probe(port);
    assert.ok(fresh.kept, "a new connection is served once descriptors are free again");
    fresh.socket.destroy();
  } finally {
    for (const c of clients) c.destroy();
    child.kill("SIGKILL");
  }
});

test.run();
