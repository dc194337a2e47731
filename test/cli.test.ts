import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import WebSocket from "ws";
import { connect, echoRoundTrip, startServer } from "./helpers.js";

const CLI = ["--import", "tsx", "src/cli.ts"];

function run(args: string[]) {
  return spawnSync(process.execPath, [...CLI, ...args], { encoding: "utf8", timeout: 20_000 });
}

test("--help prints usage and exits 0", () => {
  const r = run(["--help"]);
  assert.is(r.status, 0);
  assert.match(r.stdout, "Usage: wasm-reactor serve");
  assert.match(r.stdout, "--ports <n>");
});

for (const [args, message] of [
  [["serve", "--bogus"], "Unknown option '--bogus'"],
  [["serve", "--port", "abc"], '--port expects a whole number, got "abc"'],
  [["serve", "--protocol", "smtp"], 'unknown protocol "smtp"'],
  [["launch"], 'unknown command "launch"'],
  [["serve", "--backend", "kqueue"], 'unknown backend "kqueue"'],
  [["serve", "--route", "/=hi"], "--route needs --protocol http (or ws-echo)"],
  [["simulate", "--protocol", "http"], "simulate generates echo and line traffic"],
  [["serve", "--protocol", "http", "--route", "nopath"], '--route expects /path=body, got "nopath"'],
] as const) {
  test(`"${args.join(" ")}" fails with one line and no stack trace`, () => {
    const r = run([...args]);
    assert.is(r.status, 2);
    assert.match(r.stderr, message);
    assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
  });
}

test("a busy port exits non-zero with one line", async () => {
  const server = await startServer({});
  const r = run(["serve", "--port", String(server.address()!.port), "--host", "127.0.0.1"]);
  assert.is(r.status, 1);
  assert.match(r.stderr, "EADDRINUSE");
  assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
  await server.close();
});

test("serve --protocol http answers its --route inside the module", async () => {
  const child = spawn(process.execPath,
    [...CLI, "serve", "--protocol", "http", "--port", "0", "--host", "127.0.0.1", "--route", "/hi=hello\\n", "--route", "/ok="],
    { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const [line] = await once(child.stdout!, "data");
    const port = Number(/port (\d+)/.exec(String(line))?.[1]);
    const hi = await fetch(`http://127.0.0.1:${port}/hi`);
    assert.is(await hi.text(), "hello\n");
    const ok = await fetch(`http://127.0.0.1:${port}/ok`);
    assert.is(ok.status, 200);
    assert.is(ok.headers.get("content-length"), "0");
    assert.is((await fetch(`http://127.0.0.1:${port}/`)).status, 404); // routes given: no default
  } finally {
    child.kill("SIGTERM");
  }
});

test("serve --threads 2 serves HTTP from two sub-reactors", async () => {
  const child = spawn(process.execPath, [...CLI, "serve", "--protocol", "http", "--port", "0", "--host", "127.0.0.1", "--threads", "2"],
    { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const [line] = await once(child.stdout!, "data");
    assert.match(String(line), "2 threads");
    const port = Number(/port (\d+)/.exec(String(line))?.[1]);
    const bodies = await Promise.all(Array.from({ length: 20 }, async () => (await fetch(`http://127.0.0.1:${port}/`)).text()));
    assert.ok(bodies.every((b) => b === "Hello from wasm-reactor\n"));
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    assert.is(code, 0);
  } finally {
    child.kill("SIGKILL");
  }
});

test("serve --protocol ws echoes WebSocket messages from a JS handler", async () => {
  const child = spawn(process.execPath, [...CLI, "serve", "--protocol", "ws", "--port", "0", "--host", "127.0.0.1"],
    { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const [line] = await once(child.stdout!, "data");
    const port = Number(/port (\d+)/.exec(String(line))?.[1]);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    await once(ws, "open");
    const reply = once(ws, "message");
    ws.send("round trip");
    assert.is(String((await reply)[0]), "round trip");
    ws.terminate();
  } finally {
    child.kill("SIGTERM");
  }
});

for (const backend of ["native", "net"]) {
test(`serve --backend ${backend} answers on its port and stops cleanly on SIGTERM`, async () => {
  const child = spawn(process.execPath,
    [...CLI, "serve", "--protocol", "line", "--port", "0", "--host", "127.0.0.1", "--backend", backend],
    { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const [line] = await once(child.stdout!, "data");
    const port = Number(/port (\d+)/.exec(String(line))?.[1]);
    assert.ok(port > 0, `no port in: ${line}`);
    assert.match(String(line), `${backend} host`);
    const socket = await connect(port);
    assert.is((await echoRoundTrip(socket, Buffer.from("hi\n"))).toString(), "hi\n");
    socket.destroy();
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    assert.is(code, 0);
  } finally {
    child.kill("SIGKILL");
  }
});
}

test("where the addon cannot load, serve falls back to the net host with a one-line notice", async () => {
  const child = spawn(process.execPath, [...CLI, "serve", "--port", "0", "--host", "127.0.0.1"],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WASM_REACTOR_ADDON_PATH: "/nonexistent/wasm_reactor.node" } });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  try {
    const [line] = await once(child.stdout!, "data");
    assert.match(String(line), "net host");
    assert.match(stderr, "native epoll host unavailable");
    assert.is(stderr.trim().split("\n").length, 1, stderr);
    const socket = await connect(Number(/port (\d+)/.exec(String(line))?.[1]));
    assert.is((await echoRoundTrip(socket, Buffer.from("portable"))).toString(), "portable");
    socket.destroy();
  } finally {
    child.kill("SIGKILL");
  }
});

test.run();
