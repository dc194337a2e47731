// Every program in examples/ runs as a user would run it (node examples/…, importing
// "wasm-reactor" by name), on an ephemeral port, answers a real client, and stops
// cleanly on Ctrl-C (SIGINT).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { once } from "node:events";
import WebSocket from "ws";
import { connect, echoRoundTrip, HOST } from "./helpers.js";
import { withServing } from "./processes.js";

async function interrupt(child: import("node:child_process").ChildProcess): Promise<number | null> {
  const exited = once(child, "exit");
  child.kill("SIGINT");
  return (await exited)[0] as number | null;
}

function example(file: string, args: string[], body: (port: number, line: string) => Promise<void>): Promise<void> {
  return withServing(process.execPath, [`examples/${file}`, ...args], async ({ child, line, port }) => {
    await body(port, line);
    assert.is(await interrupt(child), 0, "stops cleanly on SIGINT");
  }, { env: { ...process.env, PORT: "0" } });
}

async function wsOpen(port: number, path = "/"): Promise<{ ws: WebSocket; messages: string[]; next: () => Promise<string> }> {
  const ws = new WebSocket(`ws://${HOST}:${port}${path}`);
  const messages: string[] = [];
  const waiting: ((m: string) => void)[] = [];
  ws.on("message", (data) => {
    const waiter = waiting.shift();
    if (waiter) waiter(String(data));
    else messages.push(String(data));
  });
  await once(ws, "open");
  const next = () => messages.length > 0 ? Promise.resolve(messages.shift()!) : new Promise<string>((r) => waiting.push(r));
  return { ws, messages, next };
}

test("echo.mjs echoes bytes", () => example("echo.mjs", [], async (port) => {
  const socket = await connect(port);
  assert.is((await echoRoundTrip(socket, Buffer.from("bytes back"))).toString(), "bytes back");
  socket.destroy();
}));

test("line.mjs answers lines on each of its three ports", () => example("line.mjs", [], async (_port, line) => {
  const ports = [...line.matchAll(/port (\d+)/g)].map((m) => Number(m[1]));
  assert.is(ports.length, 3, line);
  for (const port of ports) {
    const socket = await connect(port);
    assert.is((await echoRoundTrip(socket, Buffer.from(`to ${port}\n`))).toString(), `to ${port}\n`);
    socket.destroy();
  }
}));

test("http-routes.mjs answers its routes inside the module", () => example("http-routes.mjs", [], async (port) => {
  const health = await fetch(`http://${HOST}:${port}/health`);
  assert.is(health.headers.get("content-type"), "application/json");
  assert.equal(await health.json(), { ok: true });
  assert.is(await (await fetch(`http://${HOST}:${port}/`)).text(), "hello\n");
}));

test("http-handler.mjs answers a JSON POST from JavaScript and /health from the module", () => example("http-handler.mjs", [], async (port) => {
  const res = await fetch(`http://${HOST}:${port}/greet`, { method: "POST", body: JSON.stringify({ name: "Ada" }) });
  assert.equal(await res.json(), { greeting: "hello, Ada" });
  assert.is(await (await fetch(`http://${HOST}:${port}/health`)).text(), "ok\n");
  assert.is((await fetch(`http://${HOST}:${port}/nothing`)).status, 404);
}));

test("express.mjs runs an Express app: params, query, req.ip, a JSON body, a streamed upload", () => example("express.mjs", [], async (port) => {
  const base = `http://${HOST}:${port}`;
  assert.equal(await (await fetch(`${base}/users/42?sort=desc`)).json(), { id: "42", sort: "desc", from: "::ffff:127.0.0.1" }); // the default host is "::", as node reports an IPv4 peer there
  const note = await fetch(`${base}/notes`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "hi" }) });
  assert.is(note.status, 201);
  assert.equal(await note.json(), { saved: { text: "hi" } });
  const body = Buffer.alloc(3 << 20, 7);
  const up = await (await fetch(`${base}/upload`, { method: "POST", body })).json() as { bytes: number; sha256: string };
  assert.equal(up, { bytes: body.length, sha256: createHash("sha256").update(body).digest("hex") });
}));

test("ws-echo.mjs echoes WebSocket messages", () => example("ws-echo.mjs", [], async (port) => {
  const { ws, next } = await wsOpen(port);
  ws.send("echo me");
  assert.is(await next(), "echo me");
  ws.terminate();
}));

test("ws-chat.mjs broadcasts one client's message to every client", () => example("ws-chat.mjs", [], async (port) => {
  const a = await wsOpen(port, "/chat");
  const b = await wsOpen(port, "/chat");
  assert.is(await a.next(), "welcome, guest1");
  assert.is(await b.next(), "welcome, guest2");
  a.ws.send("hi all");
  assert.is(await a.next(), "guest1: hi all");
  assert.is(await b.next(), "guest1: hi all");
  a.ws.close();
  b.ws.close();
}));

for (const mode of ["reuseport", "handoff"]) {
  test(`threads.mjs (${mode}) serves HTTP from two sub-reactors`, () => example("threads.mjs", mode === "handoff" ? ["handoff"] : [], async (port, line) => {
    assert.match(line, `(${mode})`);
    const bodies = await Promise.all(Array.from({ length: 20 }, async () => (await fetch(`http://${HOST}:${port}/`)).text()));
    assert.ok(bodies.every((b) => b === "Hello from wasm-reactor\n"), bodies.join("|"));
  }));
}

test("worker-pool/server.mjs runs the handler on workers", () => example("worker-pool/server.mjs", [], async (port) => {
  const answers = await Promise.all([20, 21, 22].map(async (n) => (await fetch(`http://${HOST}:${port}/fib/${n}`)).text()));
  assert.equal(answers, ["6765\n", "10946\n", "17711\n"]);
  assert.is((await fetch(`http://${HOST}:${port}/other`)).status, 404);
}));

test.run();
