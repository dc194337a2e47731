import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { once } from "node:events";
import WebSocket from "ws";
import { connect, echoRoundTrip, startServer } from "./helpers.js";
import { terminate, withServing, type Serving } from "./processes.js";

const CLI = ["--import", "tsx", "src/cli.ts"];

function run(args: string[]) {
  return spawnSync(process.execPath, [...CLI, ...args], { encoding: "utf8", timeout: 20_000 });
}

test("--help lists the commands and exits 0", () => {
  const r = run(["--help"]);
  assert.is(r.status, 0);
  assert.match(r.stdout, "Usage: wasm-reactor <command>");
  for (const command of ["serve", "simulate", "replay"]) assert.match(r.stdout, `wasm-reactor ${command} --help`);
});

for (const [args, usage, option] of [
  [["serve", "--help"], "Usage: wasm-reactor serve", "--ports <n>"],
  [["help", "serve"], "Usage: wasm-reactor serve", "--ports <n>"],
  [["simulate", "--help"], "Usage: wasm-reactor simulate", "--faults <list>"],
  [["replay", "--help"], "Usage: wasm-reactor replay", "--record"],
] as const) {
  test(`"${args.join(" ")}" prints that command's help`, () => {
    const r = run([...args]);
    assert.is(r.status, 0);
    assert.match(r.stdout, usage);
    assert.match(r.stdout, option);
  });
}

test("--version prints the package's version", () => {
  const r = run(["--version"]);
  assert.is(r.status, 0);
  assert.is(r.stdout.trim(), JSON.parse(readFileSync("package.json", "utf8")).version);
});

for (const [args, message] of [
  [["serve", "--bogus"], "Unknown option '--bogus'"],
  [["serve", "--port", "abc"], '--port expects a whole number, got "abc"'],
  [["serve", "--protocol", "smtp"], 'unknown protocol "smtp"'],
  [["launch"], 'unknown command "launch"'],
  [["serve", "--backend", "kqueue"], 'unknown backend "kqueue"'],
  [["serve", "--route", "/=hi"], "--route applies to --protocol http, ws-echo, ws, not echo"],
  [["serve", "--protocol", "http", "--max-line", "80"], "--max-line applies to --protocol line, not http"],
  [["serve", "--threads", "0"], "--threads must be an integer from 1 to 256, got 0"],
  [["replay"], "replay needs a trace file"],
  [["simulate", "--protocol", "http"], "simulate generates echo and line traffic"],
  [["serve", "--protocol", "http", "--route", "nopath"], '--route expects /path=body, got "nopath"'],
] as const) {
  test(`"${args.join(" ")}" fails with one line and no stack trace`, () => {
    const r = run([...args]);
    assert.is(r.status, 2);
    assert.match(r.stderr, message);
    assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.ok(r.stderr.startsWith("wasm-reactor: ") && !r.stderr.includes("wasm-reactor: wasm-reactor:"), r.stderr);
    assert.match(r.stderr, args[0] === "launch" ? "(see wasm-reactor --help)" : `(see wasm-reactor ${args[0]} --help)`);
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

/** Runs body against `serve` on an ephemeral port of 127.0.0.1 with these extra flags. */
function withServe(args: string[], body: (s: Serving) => Promise<void>, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return withServing(process.execPath, [...CLI, "serve", "--port", "0", "--host", "127.0.0.1", ...args], body, { env });
}

test("serve --protocol http answers its --route inside the module", () =>
  withServe(["--protocol", "http", "--route", "/hi=hello\\n", "--route", "/ok="], async ({ port }) => {
    const hi = await fetch(`http://127.0.0.1:${port}/hi`);
    assert.is(await hi.text(), "hello\n");
    const ok = await fetch(`http://127.0.0.1:${port}/ok`);
    assert.is(ok.status, 200);
    assert.is(ok.headers.get("content-length"), "0");
    assert.is((await fetch(`http://127.0.0.1:${port}/`)).status, 404); // routes given: no default
  }));

test("serve --threads 2 serves HTTP from two sub-reactors", () =>
  withServe(["--protocol", "http", "--threads", "2"], async ({ child, line, port }) => {
    assert.match(line, "2 threads");
    const bodies = await Promise.all(Array.from({ length: 20 }, async () => (await fetch(`http://127.0.0.1:${port}/`)).text()));
    assert.ok(bodies.every((b) => b === "Hello from wasm-reactor\n"));
    assert.is(await terminate(child), 0);
  }));

test("serve --protocol ws echoes WebSocket messages from a JS handler", () =>
  withServe(["--protocol", "ws"], async ({ port }) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    await once(ws, "open");
    const reply = once(ws, "message");
    ws.send("round trip");
    assert.is(String((await reply)[0]), "round trip");
    ws.terminate();
  }));

for (const backend of ["native", "net"]) {
  test(`serve --backend ${backend} answers on its port and stops cleanly on SIGTERM`, () =>
    withServe(["--protocol", "line", "--backend", backend], async ({ child, line, port }) => {
      assert.match(line, `${backend} host`);
      const socket = await connect(port);
      assert.is((await echoRoundTrip(socket, Buffer.from("hi\n"))).toString(), "hi\n");
      socket.destroy();
      assert.is(await terminate(child), 0);
    }));
}

test("where the addon cannot load, serve falls back to the net host with a one-line notice", () =>
  withServe([], async ({ line, port, stderr }) => {
    assert.match(line, "net host");
    assert.match(stderr(), "native epoll host unavailable");
    assert.is(stderr().trim().split("\n").length, 1, stderr());
    const socket = await connect(port);
    assert.is((await echoRoundTrip(socket, Buffer.from("portable"))).toString(), "portable");
    socket.destroy();
  }, { ...process.env, WASM_REACTOR_ADDON_PATH: "/nonexistent/wasm_reactor.node" }));

test.run();
