// Reactor + worker pool (workers: M): request handlers run on worker threads; the
// reactor keeps parsing and writing, so a slow handler does not stall other clients.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer } from "../src/server.js";
import { HOST } from "./helpers.js";

const HANDLER = "test/fixtures/slow-handler.ts";

test("a 200 ms CPU-bound handler does not delay requests that other workers can answer", async () => {
  const server = await createServer({ host: HOST, port: 0, protocol: "http", workers: 2, handler: HANDLER }).listen();
  const base = `http://127.0.0.1:${server.address()!.port}`;
  try {
    const slow = fetch(`${base}/slow`).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 20)); // the slow one is running on its worker
    const started = Date.now();
    const fast = await Promise.all(Array.from({ length: 20 }, (_, i) => fetch(`${base}/fast${i}`, { method: "POST", body: `n${i}` })
      .then(async (r) => [await r.text(), r.headers.get("x-thread")] as const)));
    const fastMs = Date.now() - started;
    assert.ok(fast.every(([body], i) => body === `POST /fast${i} n${i}`));
    assert.ok(fastMs < 150, `fast requests took ${fastMs} ms while one handler was busy for 200 ms`);
    assert.is(await slow, "GET /slow ");
    assert.ok(fast.every(([, thread]) => Number(thread) > 0), "handlers ran off the main thread");
  } finally {
    await server.close();
  }
});

test("a handler that throws in a worker gets a 500, reported to requestError", async () => {
  const server = createServer({ host: HOST, port: 0, protocol: "http", workers: 1, handler: HANDLER });
  const errors: string[] = [];
  server.on("requestError", (e) => errors.push(e.message));
  await server.listen();
  try {
    const r = await fetch(`http://127.0.0.1:${server.address()!.port}/throw`);
    assert.is(r.status, 500);
    assert.is((await fetch(`http://127.0.0.1:${server.address()!.port}/ok`)).status, 200);
    assert.match(errors[0] ?? "", "handler failure on purpose");
  } finally {
    await server.close();
  }
});

test("close() with a request in a worker waits for its answer, then stops", async () => {
  const server = await createServer({ host: HOST, port: 0, protocol: "http", workers: 1, handler: HANDLER }).listen();
  const slow = fetch(`http://127.0.0.1:${server.address()!.port}/slow`).then((r) => r.text());
  await new Promise((r) => setTimeout(r, 50)); // the request is in the worker now
  await server.close();
  assert.is(await slow, "GET /slow ");
});

test("a handler module that does not load fails listen() with a clear error", async () => {
  const server = createServer({ host: HOST, port: 0, protocol: "http", workers: 1, handler: "test/fixtures/missing-handler.ts" });
  const err = await server.listen().then(() => undefined, (e: Error) => e);
  assert.match(String(err?.message), "the request handler module could not be loaded");
});

test.run();
