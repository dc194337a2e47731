// Small rings and a small arena force every "full" path of the host loop: the event
// ring fills during accepts and reads, the arena half runs out mid-batch, and the
// leftovers must come through on later batches, intact and in order.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect, echoRoundTrip, payload, startServer } from "./helpers.js";

test("a 16-record event ring and a 64 KiB arena still serve 300 busy connections", async () => {
  const server = await startServer({ protocol: "echo", eventCapacity: 16, readBytesPerBatch: 64 * 1024 });
  const port = server.address()!.port;
  const sockets = await Promise.all(Array.from({ length: 300 }, () => connect(port)));
  await Promise.all(sockets.map(async (socket, i) => {
    for (let m = 0; m < 5; m++) {
      const data = payload(1 + ((i * 7919 + m * 104729) % 20000));
      const reply = await echoRoundTrip(socket, data);
      if (!reply.equals(data)) throw new Error(`connection ${i} message ${m} differs`);
    }
  }));
  const stats = server.stats();
  assert.is(stats.accepted, 300);
  assert.ok(stats.largestBatch <= 16, `a batch of ${stats.largestBatch} events overflowed the 16-record ring`);
  for (const s of sockets) s.destroy();
  await server.close();
});

test("line framing holds when reads are cut by a full arena", async () => {
  const server = await startServer({ protocol: "line", eventCapacity: 16, readBytesPerBatch: 64 * 1024 });
  const port = server.address()!.port;
  const sockets = await Promise.all(Array.from({ length: 20 }, () => connect(port)));
  await Promise.all(sockets.map(async (socket, i) => {
    const text = Buffer.from(Array.from({ length: 2000 }, (_, n) => `c${i} line ${n} ${"#".repeat(n % 90)}\n`).join(""));
    const reply = await echoRoundTrip(socket, text);
    if (!reply.equals(text)) throw new Error(`connection ${i} differs`);
  }));
  for (const s of sockets) s.destroy();
  await server.close();
});

test.run();
