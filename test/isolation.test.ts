// Rollback isolation (host/rollback.ts): 200 clients stream lines while one more sends
// input that makes the module trap. Only the poisoning connection is closed; all 200
// get back every byte they sent, on every host, for a built-in protocol, a user's module
// and a JS-bridged protocol. A module whose state changes outside what the log explains
// is caught re-running differently and restarted instead; traps again and again too.
import { test } from "uvu";
import * as assert from "uvu/assert";
import WebSocket from "ws";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { TRAP_MAGIC } from "../host/module.js";
import { connId, Door, EV } from "../host/door.js";
import { replayTrace } from "../host/replay.js";
import { startIsolatedInstance } from "../host/trace.js";
import { createServer, type Server, type ServerOptions, type TrapInfo } from "../src/index.js";
import { simulateModule } from "../src/testing.js";
import { buildModule, fixtureModule } from "./fixture-modules.js";
import { connect, HOST, receive, receiveAll, sleep, waitFor } from "./helpers.js";

const CLIENTS = 200;
const LINES = 20;

const linesOf = (client: number) => Array.from({ length: LINES }, (_, k) => `client ${client} line ${k} ${"x".repeat(k * 7)}\n`);

/** Starts the server and collects its trap events. */
async function serve(options: ServerOptions): Promise<{ server: Server; traps: { err: Error; info: TrapInfo }[] }> {
  const server = await createServer({ host: HOST, port: 0, ...options }).listen();
  const traps: { err: Error; info: TrapInfo }[] = [];
  server.on("trap", (err, info) => traps.push({ err, info }));
  return { server, traps };
}

/** One client writing its lines a few at a time, then half-closing; everything it got back. */
async function streamLines(port: number, client: number): Promise<string> {
  const socket = await connect(port);
  const got = receiveAll(socket);
  const lines = linesOf(client);
  for (let k = 0; k < LINES; k += 4) {
    socket.write(lines.slice(k, k + 4).join(""));
    await sleep(1 + (client % 3));
  }
  socket.end();
  return (await got).toString();
}

/** 200 streaming clients, and the poison sent while they stream; every client's answer is checked. */
async function poisonedStream(port: number, poison: string | Buffer): Promise<void> {
  const clients = Array.from({ length: CLIENTS }, (_, i) => streamLines(port, i));
  await sleep(5);
  const attacker = await connect(port);
  const attackerClosed = receiveAll(attacker); // bounded: fails the test if the close never comes
  attacker.write(poison);
  await attackerClosed;
  const answers = await Promise.all(clients);
  answers.forEach((answer, i) => assert.is(answer, linesOf(i).join(""), `client ${i}`));
}

/** On the net host: a bystander's exchange, a poisoning connection closed alone, then the bystander's next exchange goes as expected. */
async function bystanderSurvives(module: string, before: [string, string], poison: string, after: [string, string]): Promise<void> {
  const { server, traps } = await serve({ backend: "net", module });
  try {
    const port = server.address()!.port;
    const bystander = await connect(port);
    bystander.write(before[0]);
    assert.is((await receive(bystander, before[1].length)).toString(), before[1]);
    const attacker = await connect(port);
    const attackerClosed = receiveAll(attacker);
    attacker.write(poison);
    await attackerClosed;
    await waitFor(() => traps.length === 1, 5000, "the trap event");
    assert.type(traps[0].info.connection, "number");
    bystander.write(after[0]);
    assert.is((await receive(bystander, after[1].length)).toString(), after[1], "the bystander goes on, its state rolled back with the rest");
    bystander.destroy();
  } finally {
    await server.close();
  }
}

const hosts: [string, ServerOptions][] = [
  ["native", { backend: "native" }], ["net", { backend: "net" }], ["threads", { threads: 2 }],
];

/** The scenario on one server: 200 streaming clients get every byte; the poisoner alone is closed, and the trap says `reason`. */
async function isolates(options: ServerOptions, poison: string, reason: string): Promise<void> {
  const { server, traps } = await serve(options);
  try {
    await poisonedStream(server.address()!.port, poison);
    await waitFor(() => traps.length === 1, 5000, "the trap event"); // from a sub-reactor thread, it may come after the close
    assert.match(traps[0].err.message, reason);
    assert.type(traps[0].info.connection, "number");
  } finally {
    await server.close();
  }
}

for (const [host, hostOptions] of hosts) {
  test(`line on the ${host} host: a trap costs the poisoning connection only; 200 streaming clients get every byte`, () =>
    isolates({ ...hostOptions, protocol: "line", trapOnMagic: true }, TRAP_MAGIC, "trap requested by input"));

  test(`examples/loop-forever on the ${host} host: an endless loop ends on the CPU budget and costs its connection only`, () =>
    isolates({ ...hostOptions, module: buildModule("examples/loop-forever/handler.ts", "loop-forever") }, "spin\n", "CPU budget exhausted"));

  test(`a user's module on the ${host} host: its bug on one input costs that connection only`, () =>
    isolates({ ...hostOptions, module: fixtureModule("poison") }, "poison\n", "unreachable"));
}

test("on the simulator, under every fault: the poisoning client is closed, the 200 others get every byte", () => {
  for (const seed of [1, 2]) {
    const net = simulateModule({ module: fixtureModule("poison"), seed, faults: { split: 0.3, glue: 0.3, shortSend: 0.3, delay: 0.1 } });
    const clients = Array.from({ length: CLIENTS }, () => net.connect());
    for (let k = 0; k < LINES; k += 4) {
      clients.forEach((c, i) => c.write(linesOf(i).slice(k, k + 4).join("")));
      if (k === 8) net.connect().write("poison\n");
      net.run();
    }
    clients.forEach((c) => c.end());
    net.run();
    clients.forEach((c, i) => assert.is(c.text(), linesOf(i).join(""), `seed ${seed}, client ${i}`));
    assert.is(net.traps.length, 1, `seed ${seed}`);
  }
});

test("a trap in a connection's timer hook costs that connection only, on the simulator and on sockets", async () => {
  const net = simulateModule({ module: fixtureModule("timebomb"), seed: 3, faults: "all" });
  const others = Array.from({ length: 20 }, (_, i) => net.connect().write(`before ${i};`));
  const armed = net.connect().write("arm");
  net.run();
  net.advance(100);
  others.forEach((c, i) => c.write(`after ${i};`));
  net.run();
  assert.ok(armed.closed, "the armed connection is closed");
  others.forEach((c, i) => assert.is(c.text(), `before ${i};after ${i};`, `client ${i}`));
  assert.match(net.traps[0].error.message, "unreachable");
  await bystanderSurvives(fixtureModule("timebomb"), ["hello", "hello"], "arm", ["still", "still"]);
});

test("ws with a JS handler: a poisoning connection is closed; the WebSockets, their JS side included, go on", async () => {
  const { server, traps } = await serve({ protocol: "ws", trapOnMagic: true });
  server.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
  try {
    const port = server.address()!.port;
    const sockets = await Promise.all(Array.from({ length: 50 }, () => new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`ws://${HOST}:${port}/`);
      ws.once("open", () => resolve(ws));
      ws.once("error", reject);
    })));
    const echoes = sockets.map((ws, i) => new Promise<string[]>((resolve) => {
      const got: string[] = [];
      ws.on("message", (data) => {
        got.push(String(data));
        if (got.length === LINES) resolve(got);
      });
    }));
    const sending = sockets.map(async (ws, i) => {
      for (let k = 0; k < LINES; k++) {
        ws.send(`ws ${i} message ${k}`);
        if (k % 5 === 0) await sleep(1);
      }
    });
    const attacker = await connect(port);
    const attackerClosed = receiveAll(attacker);
    attacker.write(TRAP_MAGIC);
    await attackerClosed;
    await Promise.all(sending);
    const got = await Promise.all(echoes);
    got.forEach((messages, i) => assert.equal(messages, Array.from({ length: LINES }, (_, k) => `ws ${i} message ${k}`), `ws ${i}`));
    assert.is(traps.length, 1);
    assert.is(server.clients.size, 50, "every WebSocket still open on the JS side");
    for (const ws of sockets) ws.close();
  } finally {
    await server.close();
  }
});

test("the flight recorder keeps the poisoned batch: its replay reaches the same trap and recovers the same way", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "wr-isolation-"));
  try {
    const { server, traps } = await serve({ backend: "net", module: fixtureModule("poison"), flightRecorder: { path: path.join(dir, "incident.wrt") } });
    try {
      const port = server.address()!.port;
      const bystander = await connect(port);
      bystander.write("still\n");
      const attacker = await connect(port);
      const attackerClosed = receiveAll(attacker);
      attacker.write("poison\n");
      await attackerClosed;
      await waitFor(() => traps.length === 1, 5000, "the trap event");
      const recording = traps[0].info.flightRecording!;
      assert.ok(existsSync(recording), "the incident was written");
      const replay = replayTrace(recording);
      assert.is(replay.divergence, undefined);
      assert.equal(replay.traps, [`unreachable (isolated: connection ${traps[0].info.connection} closed)`]);
      bystander.destroy();
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a handler's state in a plain global is checkpointed too (build exports it): after an isolated trap its count goes on", () =>
  bystanderSurvives(fixtureModule("counter"), ["one\n", "1 one\n"], "poison\n", ["two\n", "2 two\n"]));

test("state changed behind the module's back makes the re-run differ: the trap goes up (a restart), saying why", () => {
  const instance = startIsolatedInstance({ protocol: "module", moduleFile: fixtureModule("counter"), eventCapacity: 16,
    arenaHalfBytes: 64 * 1024, maxLineLength: 1, isolateTraps: true }, () => {});
  const door = new Door(instance);
  const conn = connId(1, 1);
  const step = (text?: string) => {
    if (text === undefined) door.push(EV.ACCEPT, conn);
    else door.pushData(conn, Buffer.from(text));
    return door.dispatch();
  };
  step();
  step("one\n");
  // What a nondeterministic module would do: its state changes with no input to explain it.
  const counter = Object.entries(instance.exports).find(([name]) => name.endsWith("/answered"))![1] as WebAssembly.Global;
  counter.value = 41;
  step("two\n");
  assert.throws(() => step("poison\n"), /not deterministic: batch 3 of 3 since the checkpoint did not do again what it did/);
});

test("traps again and again: after 5 isolated in a short window, the next restarts the instance and says so", async () => {
  const { server, traps } = await serve({ backend: "net", protocol: "echo", trapOnMagic: true });
  try {
    const port = server.address()!.port;
    for (let i = 0; i < 6; i++) {
      const attacker = await connect(port);
      const gone = receiveAll(attacker);
      attacker.write(TRAP_MAGIC);
      await gone;
      await sleep(10);
    }
    assert.is(traps.length, 6);
    assert.equal(traps.map((t) => t.info.connection === undefined), [false, false, false, false, false, true]);
    assert.match(traps[5].err.message, "the 6th trap within 10 s: the instance restarts");
  } finally {
    await server.close();
  }
});

test.run();
