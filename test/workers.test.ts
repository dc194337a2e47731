// Reactor + worker pool (workers: M): request handlers run on worker threads; the
// reactor keeps parsing and writing, so a slow handler does not stall other clients.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer } from "../src/server.js";
import { HOST, waitFor } from "./helpers.js";

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

test("a handler that kills its worker (process.exit, an error thrown outside any request) costs only what that worker held", async () => {
  // answerTimeout bounds what a lost request would cost (a 503 after it): the test fails fast, not at the runner's limit.
  const server = createServer({ host: HOST, port: 0, protocol: "http", workers: 1, handler: HANDLER, answerTimeout: 10_000 });
  const errors: string[] = [];
  server.on("requestError", (e) => errors.push(e.message));
  await server.listen();
  const get = (path: string) => fetch(`http://127.0.0.1:${server.address()!.port}${path}`)
    .then(async (r) => ({ status: r.status, thread: r.headers.get("x-thread"), body: await r.text() }));
  try {
    const before = (await get("/ok")).thread;
    const started = Date.now();
    const exited = await get("/exit"); // its worker ends before answering: answered for it, not left to answerTimeout
    assert.is(exited.status, 500);
    assert.ok(Date.now() - started < 5000, `the 500 took ${Date.now() - started} ms`);
    const after = await Promise.all(Array.from({ length: 5 }, () => get("/ok")));
    assert.ok(after.every((r) => r.status === 200), `after the exit: ${after.map((r) => r.status)}`);
    assert.ok(after.every((r) => r.thread !== before), "a new worker took its place");
    assert.match(errors.join("\n"), "a handler worker stopped (the handler called process.exit(3))");
    assert.is((await get("/escape")).status, 200); // answered, then its worker dies of the error
    await waitFor(() => errors.some((e) => e.includes("an error outside any request, on purpose")), 5000, "the report");
    const again = await Promise.all(Array.from({ length: 5 }, () => get("/ok")));
    assert.ok(again.every((r) => r.status === 200), `after the escaped error: ${again.map((r) => r.status)}`);
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
