// The io_uring host's own promises, beyond the suites it shares with the other hosts
// (conformance-uring.test.ts, every BACKENDS suite, c10k and emfile): it really runs on
// this machine, it falls back to epoll with one notice where io_uring is refused, and it
// holds where its provided buffers and cancellations could go wrong: the module's memory
// growing while the kernel holds buffers in it, a client reset in the middle of a large
// reply, a graceful close under load.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import type net from "node:net";
import { closed, connect, receive, receiveAll, sleep, startServer } from "./helpers.js";

function report(backends: string[], env: Record<string, string> = {}): { resolved: string[]; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "test/fixtures/backend-report.ts", ...backends],
    { encoding: "utf8", env: { ...process.env, ...env }, timeout: 30_000 });
  assert.is(r.status, 0, r.stderr);
  return { resolved: JSON.parse(r.stdout.trim().split("\n").pop()!), stderr: r.stderr };
}

test("uring and auto run on io_uring here (this kernel allows it: if not, this fails rather than test epoll twice)", () => {
  const { resolved, stderr } = report(["uring", "auto"]);
  assert.equal(resolved, ["uring", "uring"]);
  assert.not.match(stderr, /io_uring unavailable/);
});

test("where io_uring is refused, uring falls back to epoll with one notice, and auto says nothing", () => {
  const { resolved, stderr } = report(["uring", "uring", "auto"], { WASM_REACTOR_IO_URING: "0" });
  assert.equal(resolved, ["native", "native", "native"]);
  const notices = stderr.split("\n").filter((l) => l.includes("io_uring unavailable"));
  assert.equal(notices, ["wasm-reactor: io_uring unavailable (disabled by WASM_REACTOR_IO_URING=0); using the epoll host"]);
});

function receives(env: Record<string, string> = {}): { uploadReceives: number; uploadEvents: number; intact: boolean; starved: number } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "test/fixtures/uring-receives.ts"],
    { encoding: "utf8", env: { ...process.env, ...env }, timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

test("receives share large buffers here (incremental consumption): few receives per upload, none starved by 1,000 small ones", () => {
  const { uploadReceives, uploadEvents, intact, starved } = receives();
  assert.ok(intact, "every echo came back intact");
  // 1 MiB in 32 KiB buffers is 32 receives at least; whole 2 KiB buffers would take 512.
  assert.ok(uploadReceives >= 32 && uploadReceives < 200, `a 1 MiB upload took ${uploadReceives} receives`);
  assert.ok(uploadEvents <= uploadReceives, `${uploadEvents} events for ${uploadReceives} receives`);
  assert.is(starved, 0, "1,000 receives of 64 bytes share a few buffers instead of one each");
});

test("WASM_REACTOR_IO_URING=fixed keeps the older kernels' whole-buffer receives, and they echo intact", () => {
  const { uploadReceives, intact } = receives({ WASM_REACTOR_IO_URING: "fixed" });
  assert.ok(intact, "every echo came back intact");
  assert.ok(uploadReceives >= 512, `a 1 MiB upload in 2 KiB buffers took only ${uploadReceives} receives`);
});

test("receives that continue each other in memory reach the module as one record", () => {
  // One connection's 1 MiB lands in buffers side by side (they start in order), so the
  // module sees far fewer DATA records than receives, and echoes straight from the arena.
  const { uploadReceives, uploadEvents } = receives({ WASM_REACTOR_IO_URING: "fixed" });
  assert.ok(uploadEvents * 4 < uploadReceives, `${uploadEvents} events for ${uploadReceives} receives`);
});

test("the module's memory grows while the kernel holds buffers in it: every byte still lands and echoes intact", async () => {
  const server = await startServer({ backend: "uring", protocol: "line", maxLineLength: 1 << 20 });
  const sockets: net.Socket[] = [];
  try {
    const port = server.address()!.port;
    const before = server.stats().moduleMemoryBytes;
    const lines = Array.from({ length: 64 }, () => randomBytes(96 * 1024).toString("base64")); // ~128 KiB each
    for (let i = 0; i < lines.length; i++) sockets.push(await connect(port));
    // The first half of every line: each connection's buffer grows the module's heap
    // (memory.grow) while receives stay armed into buffers the kernel holds.
    const replies = sockets.map((s, i) => receive(s, lines[i].length + 1));
    sockets.forEach((s, i) => s.write(lines[i].slice(0, lines[i].length >> 1)));
    await sleep(200);
    const grown = server.stats().moduleMemoryBytes;
    assert.ok(grown >= before + 4 * 1024 * 1024, `memory grew from ${before} to ${grown} only`);
    sockets.forEach((s, i) => s.write(lines[i].slice(lines[i].length >> 1) + "\n"));
    const got = await Promise.all(replies);
    got.forEach((reply, i) => assert.ok(reply.equals(Buffer.from(lines[i] + "\n")), `line ${i} came back changed`));
  } finally {
    for (const s of sockets) s.destroy();
    await server.close();
  }
});

test("a client reset in the middle of a large reply costs only that connection", async () => {
  const body = randomBytes(8 * 1024 * 1024);
  const server = await startServer({ backend: "uring", protocol: "http", routes: { "/big": { body } } });
  try {
    const port = server.address()!.port;
    for (let round = 0; round < 5; round++) {
      const victim = await connect(port);
      victim.write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
      await receive(victim, 256 * 1024); // the reply is under way, most of it still unsent
      victim.resetAndDestroy();
      await closed(victim);
    }
    const healthy = await connect(port);
    const all = receiveAll(healthy);
    healthy.end("GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const reply = await all;
    const bodyAt = reply.indexOf("\r\n\r\n") + 4;
    assert.is(createHash("sha256").update(reply.subarray(bodyAt)).digest("hex"), createHash("sha256").update(body).digest("hex"));
    for (let tries = 0; tries < 100 && server.stats().connections > 0; tries++) await sleep(20);
    assert.is(server.stats().connections, 0, "the reset connections were closed");
  } finally {
    await server.close();
  }
});

test("a graceful close with replies still queued: every byte the server read comes back, then a clean end", async () => {
  const server = await startServer({ backend: "uring", protocol: "echo" });
  const port = server.address()!.port;
  const sockets = await Promise.all(Array.from({ length: 200 }, () => connect(port)));
  const payloads = sockets.map(() => randomBytes(256 * 1024));
  const total = payloads.length * payloads[0].length;
  for (const s of sockets) s.pause(); // the echoes back up: short sends, output buffered, OUT interest on
  const results = sockets.map((s) => receiveAll(s));
  sockets.forEach((s, i) => s.end(payloads[i]));
  for (let tries = 0; tries < 500 && server.stats().bytesIn < total; tries++) await sleep(20);
  assert.is(server.stats().bytesIn, total, "the server read everything before it closes");
  const closing = server.close();
  await sleep(50);
  for (const s of sockets) s.resume();
  await closing;
  const got = await Promise.all(results); // rejects on a reset: the end must be clean
  got.forEach((g, i) => assert.ok(g.equals(payloads[i]), `connection ${i}: ${g.length} of ${payloads[i].length} bytes back`));
});

test.run();
