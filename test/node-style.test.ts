// What a node:http user writes first: createServer(listener) and listen(port, host, cb).
// It must do what node:http does, or fail at once with a line that says what to write.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "../src/index.js";
import { HOST } from "./helpers.js";

async function get(server: Server, path = "/"): Promise<string> {
  return (await fetch(`http://${HOST}:${server.address()!.port}${path}`)).text();
}

test("createServer(listener) serves HTTP through the listener, as node:http does (not echo)", async () => {
  const server = createServer((req, res) => res.end(`you asked for ${req.url}`));
  assert.is(server.options.protocol, "http");
  await server.listen(0, HOST);
  try {
    assert.is(await get(server, "/a?b=1"), "you asked for /a?b=1");
  } finally {
    await server.close();
  }
});

test("createServer(options, listener) takes both", async () => {
  const server = createServer({ host: HOST, routes: { "/health": "ok" } }, (_req, res) => res.end("from JS"));
  await server.listen();
  try {
    assert.is(await get(server, "/health"), "ok");
    assert.is(await get(server, "/other"), "from JS");
  } finally {
    await server.close();
  }
});

test("listen(port, host, callback) calls back once listening, and the promise resolves too", async () => {
  const server = createServer({ protocol: "http" });
  let port = -1;
  const listening = await server.listen(0, HOST, () => (port = server.address()!.port));
  try {
    assert.is(listening, server);
    assert.ok(port > 0);
    assert.is(server.address()!.address, HOST);
  } finally {
    await server.close();
  }
});

test("listen({ port, host }, callback) and listen(callback) take node:net's other forms", async () => {
  const a = createServer({ protocol: "http" });
  const b = createServer({ protocol: "http", host: HOST });
  let calls = 0;
  await a.listen({ port: 0, host: HOST }, () => calls++);
  await b.listen(() => calls++);
  try {
    assert.is(calls, 2);
    assert.is(await get(a), "Hello from wasm-reactor\n");
    assert.is(await get(b), "Hello from wasm-reactor\n");
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test("a failed listen rejects, emits 'error', and never calls the callback", async () => {
  const first = await createServer({ protocol: "http", host: HOST }).listen();
  const second = createServer({ protocol: "http" });
  let called = false;
  let emitted: Error | undefined;
  second.on("error", (err) => (emitted = err));
  try {
    const err = await second.listen(first.address()!.port, HOST, () => (called = true)).then(() => undefined, (e: Error) => e);
    assert.match(String(err), "EADDRINUSE");
    assert.is(emitted, err);
    assert.not.ok(called);
  } finally {
    await first.close();
  }
});

for (const [what, make, message] of [
  ["a 'request' listener on an echo server", () => createServer({ protocol: "echo" }, (_q, s) => s.end()), "'request' listeners need protocol \"http\""],
  ["a 'request' listener added to createServer() (echo by default), saying what to write", () => createServer().on("request", (_q, s) => s.end()),
    "createServer({ protocol: \"http\" }) or createServer((req, res) => …)"],
  ["a 'connection' listener on an http server", () => createServer({ protocol: "http" }).on("connection", () => {}), "'connection' listeners (WebSockets in JS) need protocol \"ws\""],
  ["a port out of range", () => createServer({ protocol: "http" }), "listen() takes a port from 0 to 65535"],
] as const) {
  test(`listen() refuses ${what} with one clear line`, async () => {
    const server = make();
    const err = await server.listen(what.includes("port") ? 70000 : 0, HOST).then(() => undefined, (e: Error) => e);
    assert.instance(err, Error);
    assert.match(err!.message, message);
    assert.not.ok(server.listening);
  });
}

test("createServer() with something that is neither options nor a listener is a TypeError", () => {
  assert.throws(() => createServer(8080 as never), /createServer\(\) takes options, a request listener, or both/);
});

test("an option that would do nothing is refused at createServer, saying what it needs", () => {
  assert.throws(() => createServer({ protocol: "echo", routes: { "/": "x" } }), /routes applies to protocol http, ws-echo, ws, not echo/);
  assert.throws(() => createServer({ protocol: "http", maxLineLength: 10 }), /maxLineLength applies to protocol line, not http/);
  assert.throws(() => createServer({ protocol: "http", accept: "handoff" }), /accept "handoff" hands connections to sub-reactors; set threads to 2 or more/);
});

test.run();
