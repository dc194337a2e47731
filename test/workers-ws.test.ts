// The worker pool serving WebSocket messages (protocol ws, workers, a handler module that
// exports message/open): handlers run on worker threads, a connection's messages in order
// on one worker, connections spread over the workers; what a handler does (send, publish,
// subscribe, close) reaches the connection; a handler that throws is reported, and the
// connection goes on.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { threadId } from "node:worker_threads";
import type WebSocket from "ws";
import { waitFor } from "./helpers.js";
import { closeOf, inbox, open, withServer } from "./ws-clients.js";

const HANDLER = "test/fixtures/ws-worker-handler.ts";

test("messages run on worker threads, each connection's in order; connections spread over the workers", async () => {
  await withServer({ workers: 2, handler: HANDLER }, () => {}, async (port) => {
    const clients = await Promise.all(Array.from({ length: 6 }, () => open(port, "/room")));
    const boxes = clients.map(inbox);
    await waitFor(() => boxes.every((b) => b.length === 1), 5000, "welcomes");
    assert.ok(boxes.every((b) => b[0] === "welcome to /room"));
    for (const c of clients) c.send("who");
    await waitFor(() => boxes.every((b) => b.length === 2), 5000, "who");
    const threads = new Set(boxes.map((b) => b[1]));
    assert.is(threads.size, 2, `both workers: ${[...threads]}`);
    assert.not.ok(threads.has(`thread ${threadId}`), "not the main thread");
    clients[0].send("slow one");
    clients[0].send("fast two");
    clients[0].send(Buffer.from([1, 2, 3]));
    await waitFor(() => boxes[0].length === 5, 5000, "three replies");
    assert.equal(boxes[0].slice(2, 4), ["slow one done", "fast two done"], "in order, though the first was slower");
    for (const c of clients) c.terminate();
  });
});

test("a worker's handler publishes, closes with a code; one that throws is reported and the connection goes on", async () => {
  const errors: string[] = [];
  await withServer({ workers: 2, handler: HANDLER }, () => {}, async (port, server) => {
    server.on("requestError", (err) => errors.push(err.message));
    const clients = await Promise.all(Array.from({ length: 4 }, () => open(port)));
    const boxes = clients.map(inbox);
    await waitFor(() => server.subscriberCount("all") === 4, 5000, "subscribed by the workers");
    clients[1].send("shout");
    await waitFor(() => [0, 2, 3].every((i) => boxes[i].some((m) => m.startsWith("shout from"))), 5000, "the others");
    assert.not.ok(boxes[1].some((m) => m.startsWith("shout from")), "not the sender");
    clients[2].send("throw");
    await waitFor(() => errors.length === 1, 5000, "the error reported");
    assert.match(errors[0], /handler bug/);
    clients[2].send("still here");
    await waitFor(() => boxes[2].includes("still here done"), 5000, "the connection went on");
    const closed = closeOf(clients[3]);
    clients[3].send("bye");
    assert.equal(await closed, [4000, "as asked"]);
    for (const c of clients) c.terminate();
  });
});

test("a handler that ends its worker closes that worker's connections with 1011; a new worker serves the rest and new ones", async () => {
  const errors: string[] = [];
  await withServer({ workers: 1, handler: HANDLER }, () => {}, async (port, server) => {
    server.on("requestError", (err) => errors.push(err.message));
    const clients = await Promise.all(Array.from({ length: 3 }, () => open(port)));
    const boxes = clients.map(inbox);
    await waitFor(() => boxes.every((b) => b.length === 1), 5000, "welcomes");
    const closes = clients.map(closeOf);
    clients[0].send("exit");
    const late = new Promise((r) => setTimeout(r, 5000).unref()).then(() => "no close within 5 s");
    const codes = await Promise.race([Promise.all(closes), late]);
    assert.equal(codes, clients.map(() => [1011, "handler worker stopped"]));
    assert.match(errors.join("\n"), "a handler worker stopped (the handler called process.exit(5))");
    const fresh = await open(port);
    const box = inbox(fresh);
    fresh.send("hello");
    await waitFor(() => box.includes("hello done"), 5000, "the new worker's answer");
    fresh.terminate();
  });
});

test.run();
