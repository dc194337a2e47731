// Main–sub reactors (threads: N): sub-reactor threads share the ports; connections
// spread over them, counters add up, and a graceful close loses nothing. The protocol
// suites run on this model too (the "threads" host of conformance.test.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer } from "../src/server.js";
import { connect, echoRoundTrip, HOST, receive, startServer, waitFor } from "./helpers.js";

for (const accept of ["reuseport", "handoff"] as const) {
test(`${accept}: connections spread over the sub-reactors, and the counters add up`, async () => {
  const server = await startServer({ protocol: "echo", threads: 2, ports: 3, accept });
  try {
    const ports = server.addresses().map((a) => a.port);
    const sockets = await Promise.all(Array.from({ length: 300 }, (_, i) => connect(ports[i % 3])));
    const replies = await Promise.all(sockets.map((s, i) => echoRoundTrip(s, Buffer.from(`message ${i}`))));
    assert.ok(replies.every((r, i) => r.toString() === `message ${i}`));
    await waitFor(() => server.stats().accepted === 300, 5000, "counters to add up");
    const perThread = server.threadStats();
    assert.is(perThread.length, 2);
    assert.ok(perThread.every((t) => t.accepted > 30), `spread: ${perThread.map((t) => t.accepted)}`);
    if (accept === "handoff") assert.equal(perThread.map((t) => t.accepted), [150, 150]); // round robin
    assert.is(server.stats().connections, 300);
    for (const s of sockets) s.destroy();
  } finally {
    await server.close();
  }
});

test(`${accept}: a graceful close under load delivers every byte already accepted, on every thread`, async () => {
  const server = await startServer({ protocol: "echo", threads: 2, accept });
  const port = server.address()!.port;
  const sockets = await Promise.all(Array.from({ length: 40 }, () => connect(port)));
  const payload = Buffer.alloc(256 * 1024, 7);
  // Each client writes and waits for its whole echo; the server closes while replies are in flight.
  const echoes = sockets.map((s) => receive(s, payload.length));
  for (const s of sockets) s.write(payload);
  await waitFor(() => server.stats().bytesIn >= 40 * payload.length, 10_000, "all input read");
  const closing = server.close();
  const got = await Promise.all(echoes);
  await closing;
  assert.ok(got.every((g) => g.equals(payload)));
  for (const s of sockets) s.destroy();
});
}

test("threads refuse what they cannot do yet, clearly", async () => {
  assert.throws(() => createServer({ protocol: "echo", threads: 2, backend: "net" }), /threads need the native backend/);
  const server = createServer({ host: HOST, port: 0, protocol: "http", threads: 2 });
  server.on("request", () => {});
  const err = await server.listen().then(() => undefined, (e: Error) => e);
  assert.match(String(err?.message), "a 'request' listener needs threads: 1");
});

test.run();
