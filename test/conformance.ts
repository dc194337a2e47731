// One conformance suite for every host: each scenario is data (what a client writes,
// what it must receive, whether the server closes), run over real sockets on the
// native (epoll and io_uring) and node:net hosts, threaded, and through the simulator
// under several fault seeds. conformance.test.ts and conformance-uring.test.ts run it.
// Host-specific behaviour (backpressure over real sockets, resets, memory growth…) is
// tested in echo.test.ts; the protocols' promises are here, once.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { HTTP_PROTOCOLS, type Protocol } from "../host/module.js";
import { NO_FAULTS, ScriptedNetwork } from "../host/sim.js";
import { httpConfig, resolveOptions, type ServerOptions } from "../src/options.js";
import { connect, prng, receive, receiveAll, sleep, startServer } from "./helpers.js";
import { HTTP_SCENARIOS } from "./http-scenarios.js";
import { clientFrame, serverFrame, SWITCHING, upgrade, WS_SCENARIOS } from "./ws-scenarios.js";
import { buildModule, fixtureModule } from "./fixture-modules.js";

interface Scenario {
  name: string;
  protocol: Protocol;
  maxLineLength?: number;
  /** http: limits and routes. */
  options?: ServerOptions;
  /** Virtual time the simulator lets pass after the writes; sockets wait for the close, or this long for bytes that must not come. */
  waitMs?: number;
  /** Each a separate write; the socket runners pause between them so they arrive as separate reads. */
  writes: Buffer[];
  /** Half-close after the writes. */
  end?: boolean;
  reply: Buffer;
  /** The server closes the connection after the reply. */
  closes: boolean;
  /** The reply holds HTTP responses (their Date values are normalised), as a module's may. */
  http?: boolean;
}

const b = (s: string) => Buffer.from(s);
const bytes = (n: number, seed: number) => {
  const random = prng(seed);
  return Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
};
const chunks = (buf: Buffer, size: number) =>
  Array.from({ length: Math.ceil(buf.length / size) }, (_, i) => buf.subarray(i * size, (i + 1) * size));
/** Lines cut at random byte boundaries (seeded), so pieces straddle line ends. */
const randomCuts = (text: string, seed: number) => {
  const random = prng(seed);
  const out: Buffer[] = [];
  for (let at = 0; at < text.length;) {
    const next = Math.min(text.length, at + 1 + Math.floor(random() * 40));
    out.push(b(text.slice(at, next)));
    at = next;
  }
  return out;
};
const manyLines = Array.from({ length: 60 }, (_, i) => `line ${i} ${"x".repeat((i * 37) % 90)}\n`).join("");
const glued = Array.from({ length: 100 }, (_, i) => `glued ${i}\n`).join("");
const big = bytes(64 * 1024, 1);
const large = bytes(1024 * 1024, 2);

const SCENARIOS: Scenario[] = [
  { name: "echo: one byte comes back", protocol: "echo", writes: [b("x")], reply: b("x"), closes: false },
  { name: "echo: 64 KiB in one write comes back intact", protocol: "echo", writes: [big], reply: big, closes: false },
  { name: "echo: 1 MiB in 16 writes comes back intact, in order", protocol: "echo", writes: chunks(large, 65536), reply: large, closes: false },
  { name: "echo: a half-close gets everything back, then the close", protocol: "echo", writes: [b("bye")], end: true, reply: b("bye"), closes: true },
  { name: "line: a line split at every byte is answered once", protocol: "line", writes: [...b("one byte at a time\n")].map((c) => Buffer.from([c])), reply: b("one byte at a time\n"), closes: false },
  { name: "line: 100 lines glued into one write get 100 replies in order", protocol: "line", writes: [b(glued)], reply: b(glued), closes: false },
  { name: "line: lines cut at random boundaries are answered exactly", protocol: "line", writes: randomCuts(manyLines, 3), reply: b(manyLines), closes: false },
  { name: "line: a line exactly at the limit is accepted", protocol: "line", maxLineLength: 64, writes: [b("z".repeat(30)), b("z".repeat(34) + "\n")], reply: b("z".repeat(64) + "\n"), closes: false },
  { name: "line: one byte over the limit gets an error line and the close", protocol: "line", maxLineLength: 64, writes: [b("fine\n" + "y".repeat(65) + "\n")], reply: b("fine\nERR line too long\n"), closes: true },
  { name: "line: an over-long line without a newline is caught while it grows", protocol: "line", maxLineLength: 64, writes: [b("y".repeat(40)), b("y".repeat(40))], reply: b("ERR line too long\n"), closes: true },
  { name: "line: a half-closed client gets its complete lines, then the close", protocol: "line", writes: [b("first\nsecond\nunfin"), b("ished")], end: true, reply: b("first\nsecond\n"), closes: true },
  { name: "echo: a connection that sends nothing for the idle timeout is closed, after its answer", protocol: "echo",
    options: { idleTimeout: 150 }, writes: [b("last words")], reply: b("last words"), closes: true, waitMs: 250 },
  { name: "line: an idle connection is closed; its unfinished line is dropped", protocol: "line",
    options: { idleTimeout: 150 }, writes: [b("done\nhalf")], reply: b("done\n"), closes: true, waitMs: 250 },
  ...HTTP_SCENARIOS.map((s) => ({ ...s, protocol: "http" as const })),
  ...WS_SCENARIOS.map((s) => ({ ...s, protocol: "ws-echo" as const })),
  ...moduleScenarios(),
];

/** A user's module on the SDK's stream level (test/fixtures/handlers/upper.ts), built here from source. */
function moduleScenarios(): Scenario[] {
  const options = { module: fixtureModule("upper") };
  const lower = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => 0x61 + (i % 26)));
  const upper = Buffer.from(lower.map((c) => c - 0x20));
  const frames = Buffer.concat([Buffer.from([0, 3]), b("abc"), Buffer.from([0, 0]), Buffer.from([0, 5]), b("hello")]);
  return [
    { name: "module (stream SDK): greets, answers uppercased, counts, and reports at the end", protocol: "module", options,
      writes: [b("abc"), b("de!")], end: true, reply: b("hello\nABCDE!got 6 bytes\n"), closes: true },
    { name: "module (stream SDK): 64 KiB comes back uppercased in place, intact and in order", protocol: "module", options,
      writes: chunks(lower, 8192), reply: Buffer.concat([b("hello\n"), upper]), closes: false },
    { name: "module (stream SDK): a handler that allocates and frees strings per read answers 192 KiB intact", protocol: "module",
      options: { module: fixtureModule("shout") }, writes: chunks(lower, 1000).concat(chunks(lower, 7000)).concat(chunks(lower.subarray(0, 131072), 333)),
      reply: Buffer.concat([upper, upper, upper.subarray(0, 131072)]), closes: false },
    { name: "module (framed SDK): length-prefixed messages cut at every byte are answered whole, in order", protocol: "module",
      options: { module: fixtureModule("frames") }, writes: [...frames].map((c) => Buffer.from([c])),
      reply: b("3:abc\n0:\n5:hello\n"), closes: false },
    { name: "module (framed SDK): 100 glued messages in one read are answered in one run", protocol: "module",
      options: { module: fixtureModule("frames") }, writes: [Buffer.concat(Array.from({ length: 100 }, () => frames))],
      reply: b("3:abc\n0:\n5:hello\n".repeat(100)), closes: false },
    { name: "module (framed SDK): a message over the limit is refused with the handler's answer and the close", protocol: "module",
      options: { module: fixtureModule("frames") }, writes: [Buffer.concat([frames, Buffer.from([0x04, 0x00]), Buffer.alloc(10)])],
      reply: b("3:abc\n0:\n5:hello\ntoo long\n"), closes: true },
    { name: "module (stream SDK): a handler with 256 KiB of static data gets the memory it declares", protocol: "module",
      options: { module: fixtureModule("big-static") }, writes: [Buffer.from(Array.from({ length: 256 }, (_, i) => i))],
      reply: Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)), closes: false },
    ...timerScenarios(),
    { name: "module (WebSocket SDK): a ping is answered with its pong, then the handler's ping hook runs", protocol: "module",
      options: { module: fixtureModule("pinged") }, closes: false,
      writes: [b(upgrade()), clientFrame(9, "hi"), clientFrame(1, "x")],
      reply: Buffer.concat([b(SWITCHING), serverFrame(10, "hi"), serverFrame(1, "ping:hi"), serverFrame(1, "text")]) },
    ...httpModuleScenarios(),
  ];
}

/** Per-connection timers of the stream SDK (test/fixtures/handlers/ticker.ts): on sockets in real time, on the simulator in virtual time. */
function timerScenarios(): Scenario[] {
  const options = { module: fixtureModule("ticker") };
  return [
    { name: "module (stream SDK): a connection's timer fires on the module's clock, is set again, and closes at the third tick",
      protocol: "module", options, writes: [], reply: b("tick 1\ntick 2\ntick 3\n"), closes: true, waitMs: 400 },
    { name: "module (stream SDK): a cleared timer does not fire", protocol: "module", options, writes: [b("stop")],
      reply: b("stopped\n"), closes: false, waitMs: 250 },
    { name: "module (stream SDK): setting a connection's timer again moves it", protocol: "module", options, writes: [b("again")],
      reply: b("set\ntick 1\ntick 2\ntick 3\n"), closes: true, waitMs: 600 },
  ];
}

/** The SDK's HTTP level (examples/http-api): routes with path parameters, answered in the module. */
function httpModuleScenarios(): Scenario[] {
  const options = { module: buildModule("examples/http-api/handler.ts", "http-api") };
  const answer = (status: string, type: string, body: string, close = false, head = false, fields = "") =>
    `HTTP/1.1 ${status}\r\nContent-Type: ${type}\r\n${fields}Content-Length: ${Buffer.byteLength(body)}\r\nDate: X\r\n`
    + `${close ? "Connection: close\r\n" : ""}\r\n${head ? "" : body}`;
  const json = "application/json";
  const text = "text/plain; charset=utf-8";
  const pipelined = "POST /notes HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    + "GET /notes/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /notes/2 HTTP/1.1\r\nHost: x\r\n\r\n";
  return [
    { name: "module (HTTP SDK): a POST and GETs with a path parameter, pipelined and cut at every byte", protocol: "module",
      options, http: true, writes: [...b(pipelined)].map((c) => Buffer.from([c])), closes: false,
      reply: b(answer("201 Created", json, '{"id":1}', false, false, "Location: /notes/1\r\n") + answer("200 OK", json, '{"id":1,"text":"hello"}')
        + answer("404 Not Found", json, '{"error":"no such note"}')) },
    { name: "module (HTTP SDK): setHeader adds fields and refuses bad names, injected lines and the module's own fields",
      protocol: "module", options: { module: fixtureModule("headers") }, http: true, closes: false,
      writes: [b("GET /unanswered HTTP/1.1\r\nHost: x\r\n\r\nGET /fields HTTP/1.1\r\nHost: x\r\n\r\n")],
      reply: b(answer("500 Internal Server Error", text, "Internal Server Error\n") + answer("200 OK", "text/plain", "100010", false, false, "X-Taken: yes\r\nX-Bytes: v1\r\n")) },
    { name: "module (HTTP SDK): no route is 404, another method 405, HEAD the head only, Connection: close closes", protocol: "module",
      options, http: true, closes: true,
      writes: [b("GET /nothing HTTP/1.1\r\nHost: x\r\n\r\nPUT /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        + "HEAD /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")],
      reply: b(answer("404 Not Found", text, "Not Found\n") + answer("405 Method Not Allowed", text, "Method Not Allowed\n")
        + answer("200 OK", "text/plain", "ok\n", false, true) + answer("200 OK", "text/plain", "ok\n", true)) },
  ];
}

/** The reply as compared: HTTP's Date value is the clock's, so it is normalised. */
const normalised = (reply: Buffer, s: Scenario) =>
  HTTP_PROTOCOLS.includes(s.protocol) || s.http ? Buffer.from(reply.toString("latin1").replace(/\r\nDate: [^\r]*\r\n/g, "\r\nDate: X\r\n"), "latin1") : reply;

const SIM_SEEDS = [1, 2, 3, 4, 5];
const SIM_FAULTS = { ...NO_FAULTS, split: 0.4, glue: 0.4, shortSend: 0.3, slowReader: 0.2, delay: 0.1 };

async function overSockets(backend: "native" | "uring" | "net", s: Scenario, threads = 1, accept: "reuseport" | "handoff" = "reuseport"): Promise<void> {
  const server = await startServer({ backend, protocol: s.protocol, maxLineLength: s.maxLineLength, threads, accept, ...s.options });
  try {
    const socket = await connect(server.address()!.port);
    const got = s.closes ? receiveAll(socket) : receive(socket, s.reply.length);
    for (const w of s.writes) {
      socket.write(w);
      if (s.writes.length > 1) await sleep(2);
    }
    if (s.end) socket.end();
    const reply = normalised(await got, s);
    if (!s.closes) {
      await sleep(s.waitMs ?? 30); // nothing more may follow
      assert.is(socket.readableLength, 0, "bytes after the expected reply");
      assert.ok(!socket.closed, "the server closed a connection it should keep");
    }
    assert.ok(reply.equals(s.reply), `got ${JSON.stringify(reply.subarray(0, 80).toString())}…`);
    socket.destroy();
  } finally {
    await server.close();
  }
}

function overSimulator(s: Scenario): void {
  for (const seed of SIM_SEEDS) {
    const net = new ScriptedNetwork({ protocol: s.protocol, moduleFile: s.options?.module, seed, connections: 0, active: 0, messagesPerClient: 0,
      maxMessageBytes: 1, maxLineLength: s.maxLineLength ?? 64 * 1024, faults: SIM_FAULTS,
      http: HTTP_PROTOCOLS.includes(s.protocol) ? httpConfig(resolveOptions({ protocol: s.protocol, ...s.options }), false) : undefined,
      idleTimeoutMs: s.options?.idleTimeout });
    const client = net.openClient();
    for (const w of s.writes) net.write(client, w);
    if (s.end) net.end(client);
    net.settle();
    if (s.waitMs) net.elapse(s.waitMs);
    const reply = normalised(net.received(client), s);
    assert.ok(reply.equals(s.reply), `seed ${seed}: got ${JSON.stringify(reply.subarray(0, 80).toString())}…`);
    assert.is(net.closedByServer(client), s.closes, `seed ${seed}: closed`);
  }
}

// Main–sub reactors with two sub-reactor threads: "threads" shares the port (SO_REUSEPORT),
// "handoff" has the main thread accept and hand connections over; on epoll, and on
// io_uring ("uring threads", "uring handoff").
export type ConformanceHost = "native" | "uring" | "net" | "sim" | "threads" | "handoff" | "uring threads" | "uring handoff";

const run = (host: ConformanceHost, s: Scenario) => {
  if (host === "sim") return overSimulator(s);
  const [backend, mode] = host.startsWith("uring ") ? ["uring" as const, host.slice(6)] : ["native" as const, host];
  if (mode === "threads") return overSockets(backend, s, 2);
  if (mode === "handoff") return overSockets(backend, s, 2, "handoff");
  return overSockets(host as "native" | "uring" | "net", s);
};

/** Every scenario on each of these hosts (two files share the hosts, so each stays well inside the runner's time limit). */
export function runConformance(hosts: readonly ConformanceHost[], only?: RegExp): void {
  for (const host of hosts) {
    const test = suite(`conformance on the ${host} host`);
    for (const s of SCENARIOS) if (!only || only.test(s.name)) test(s.name, () => run(host, s));
    test.run();
  }
}
