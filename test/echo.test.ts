import { suite } from "uvu";
import * as assert from "uvu/assert";
import net from "node:net";
import type { Server } from "../src/index.js";
import { BACKENDS, connect, echoRoundTrip, HOST, payload, receive, receiveAll, sleep, startServer, waitFor } from "./helpers.js";

for (const backend of BACKENDS) {
  const test = suite<{ server: Server }>(`echo on the ${backend} host`);

  test.before.each(async (ctx) => {
    ctx.server = await startServer({ backend, protocol: "echo" });
  });
  test("the server runs on the requested host", ({ server }) => {
    assert.is(server.backend, backend);
  });

  test.after.each(async (ctx) => {
    await ctx.server.close();
  });

  // Smaller payloads and the protocol's other promises: conformance.test.ts.
  test("an 8 MiB payload comes back intact", async ({ server }) => {
    const socket = await connect(server.address()!.port);
    const data = payload(8 * 1024 * 1024);
    const reply = await echoRoundTrip(socket, data);
    assert.ok(reply.equals(data), "echoed bytes differ");
    socket.destroy();
  });

  test("a client that stops reading gets all 8 MiB once it reads again", async ({ server }) => {
    const socket = await connect(server.address()!.port);
    const data = payload(8 * 1024 * 1024);
    socket.pause();
    socket.write(data);
    // The server can't send everything: short sends, output buffered, EPOLLOUT on.
    await waitFor(() => server.stats().bytesIn > 2 * 1024 * 1024, 10_000, "the server to read 2 MiB");
    await sleep(200);
    assert.ok(server.stats().bytesOut < data.length, "the server could not have sent everything yet");
    const reply = receive(socket, data.length);
    socket.resume();
    assert.ok((await reply).equals(data), "bytes after backpressure differ");
    socket.destroy();
  });

  test("1000 concurrent connections each exchange 100 messages", async ({ server }) => {
    const port = server.address()!.port;
    const sockets = await Promise.all(Array.from({ length: 1000 }, () => connect(port)));
    await Promise.all(sockets.map(async (socket, i) => {
      for (let m = 0; m < 100; m++) {
        const msg = Buffer.from(`conn ${i} message ${m};`);
        const reply = await echoRoundTrip(socket, msg);
        if (!reply.equals(msg)) throw new Error(`conn ${i} message ${m}: got ${reply}`);
      }
    }));
    assert.is(server.stats().accepted, 1000);
    for (const s of sockets) s.destroy();
  });

  test("a client reset in the middle of a large reply harms no one else", async ({ server }) => {
    const port = server.address()!.port;
    const bystander = await connect(port);
    const victim = await connect(port);
    victim.pause();
    victim.write(payload(8 * 1024 * 1024));
    await waitFor(() => server.stats().bytesIn > 1024 * 1024, 10_000, "the server to read 1 MiB");
    victim.resetAndDestroy();
    const data = payload(256 * 1024);
    assert.ok((await echoRoundTrip(bystander, data)).equals(data));
    await waitFor(() => server.stats().connections === 1, 5_000, "the reset connection to close");
    const late = await connect(port);
    assert.ok((await echoRoundTrip(late, Buffer.from("still serving"))).equals(Buffer.from("still serving")));
    bystander.destroy();
    late.destroy();
  });

  test("module memory grows during traffic and no byte is lost", async ({ server }) => {
    const port = server.address()!.port;
    const before = server.stats().moduleMemoryBytes;
    // Readers that pause make the module buffer their output: the heap must grow.
    // Loopback socket buffers absorb a few MiB per connection, so send well past that.
    const sockets = await Promise.all(Array.from({ length: 16 }, () => connect(port)));
    const data = sockets.map(() => payload(8 * 1024 * 1024));
    for (const [i, s] of sockets.entries()) {
      s.pause();
      s.write(data[i]);
    }
    await waitFor(() => server.stats().moduleMemoryBytes >= before + 8 * 1024 * 1024, 20_000, "the module memory to grow");
    const replies = sockets.map((s, i) => receive(s, data[i].length));
    for (const s of sockets) s.resume();
    const got = await Promise.all(replies);
    for (const [i, r] of got.entries()) assert.ok(r.equals(data[i]), `connection ${i} differs`);
    assert.ok(server.stats().moduleMemoryBytes > before, "memory grew");
    for (const s of sockets) s.destroy();
  });

  test("a setInterval in the same process keeps firing under load", async ({ server }) => {
    const port = server.address()!.port;
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const sockets = await Promise.all(Array.from({ length: 50 }, () => connect(port)));
    const started = Date.now();
    await Promise.all(sockets.map(async (socket) => {
      const msg = payload(4096);
      while (Date.now() - started < 1000) {
        const reply = await echoRoundTrip(socket, msg);
        if (!reply.equals(msg)) throw new Error("echo differs");
      }
    }));
    clearInterval(timer);
    // 1 s of 10 ms ticks is 100; a loop that starved the timers would manage a handful.
    assert.ok(ticks >= 50, `only ${ticks} ticks in 1 s of load`);
    assert.ok(server.stats().batches > 100, "the server was under load");
    for (const s of sockets) s.destroy();
  });

  test("graceful close flushes pending output before closing", async ({ server }) => {
    const socket = await connect(server.address()!.port);
    const data = payload(4 * 1024 * 1024);
    socket.pause();
    socket.write(data);
    await waitFor(() => server.stats().bytesIn >= data.length, 10_000, "the server to read everything");
    const all = receiveAll(socket);
    const closed = server.close();
    // No new connections once close() is called.
    await new Promise<void>((resolve, reject) => {
      const c = net.connect({ port: server.address()?.port ?? 1, host: HOST });
      c.once("connect", () => reject(new Error("connected after close()")));
      c.once("error", () => resolve());
    });
    socket.resume();
    assert.ok((await all).equals(data), "the output was not flushed before closing");
    await closed;
    assert.is(server.stats().connections, 0);
  });

  test.run();
}
