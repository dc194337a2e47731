import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Server } from "../src/index.js";
import { BACKENDS, connect, prng, receive, receiveAll, startServer } from "./helpers.js";

function lines(count: number, random: () => number): Buffer {
  let text = "";
  for (let i = 0; i < count; i++) {
    text += `line ${i} ${"x".repeat(Math.floor(random() * 200))}\n`;
  }
  return Buffer.from(text);
}

for (const backend of BACKENDS) {
  const test = suite<{ server: Server }>(`line on the ${backend} host`);

  test.before.each(async (ctx) => {
    ctx.server = await startServer({ backend, protocol: "line", maxLineLength: 1024 });
  });
  test("the server runs on the requested host", ({ server }) => {
    assert.is(server.backend, backend);
  });

  test.after.each(async (ctx) => {
    await ctx.server.close();
  });

  test("lines split at random byte boundaries are answered exactly, in order", async ({ server }) => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = prng(seed);
      const socket = await connect(server.address()!.port);
      const data = lines(200, random);
      const reply = receive(socket, data.length);
      for (let at = 0; at < data.length;) {
        const cut = Math.min(data.length, at + 1 + Math.floor(random() * 64));
        socket.write(data.subarray(at, cut));
        at = cut;
        if (random() < 0.3) await new Promise((r) => setTimeout(r, 1)); // separate reads
      }
      assert.ok((await reply).equals(data), `seed ${seed}: replies differ`);
      socket.destroy();
    }
  });

  test("a line split at every byte is answered once", async ({ server }) => {
    const socket = await connect(server.address()!.port);
    const line = Buffer.from("one byte at a time\n");
    const reply = receive(socket, line.length);
    for (const byte of line) {
      socket.write(Buffer.from([byte]));
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.equal((await reply).toString(), line.toString());
    socket.destroy();
  });

  test("100 lines glued into one write get 100 replies in order", async ({ server }) => {
    const socket = await connect(server.address()!.port);
    const data = Buffer.from(Array.from({ length: 100 }, (_, i) => `glued ${i}\n`).join(""));
    const reply = receive(socket, data.length);
    socket.write(data);
    const got = (await reply).toString().split("\n").slice(0, -1);
    assert.equal(got, Array.from({ length: 100 }, (_, i) => `glued ${i}`));
    socket.destroy();
  });

  test("an over-long line closes only its connection, with an error line", async ({ server }) => {
    const port = server.address()!.port;
    const other = await connect(port);
    const offender = await connect(port);
    const all = receiveAll(offender);
    offender.write("fine\n" + "y".repeat(2000));
    assert.is((await all).toString(), "fine\nERR line too long\n");
    const reply = receive(other, 6);
    other.write("alive\n");
    assert.is((await reply).toString(), "alive\n");
    other.destroy();
  });

  test("a line exactly at the limit is accepted; one byte more is not", async ({ server }) => {
    const port = server.address()!.port;
    const ok = await connect(port);
    const atLimit = "z".repeat(1024) + "\n";
    const reply = receive(ok, atLimit.length);
    // Sent in two pieces so the limit is checked on the buffered path too.
    ok.write(atLimit.slice(0, 500));
    await new Promise((r) => setTimeout(r, 20));
    ok.write(atLimit.slice(500));
    assert.is((await reply).toString(), atLimit);
    ok.destroy();
    const over = await connect(port);
    const all = receiveAll(over);
    over.write("z".repeat(1025) + "\n");
    assert.is((await all).toString(), "ERR line too long\n");
  });

  test("a half-closed client gets its complete lines answered, then the close", async ({ server }) => {
    const socket = await connect(server.address()!.port);
    const all = receiveAll(socket);
    socket.end("first\nsecond\nunfinished");
    assert.is((await all).toString(), "first\nsecond\n");
  });

  test.run();
}
