// wasm-reactor/testing: what a handler author's tests use. Virtual clients on a seeded,
// faulty virtual network with a virtual clock, against their module or a built-in
// protocol, and replay of a recorded trace against a new build.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createServer } from "../src/index.js";
import { replayAgainst, simulateModule, webSocketFrame, webSocketMessages, webSocketUpgrade } from "../src/testing.js";
import { fixtureModule } from "./fixture-modules.js";
import { connect, HOST, receive, receiveAll } from "./helpers.js";

const upper = fixtureModule("upper");

for (const seed of [1, 2, 3, 4, 5]) {
  test(`a module meets every fault on seed ${seed} and answers every client whole`, () => {
    const net = simulateModule({ module: upper, seed, faults: "all" });
    const clients = Array.from({ length: 20 }, (_, i) => {
      const client = net.connect();
      for (let k = 0; k < 10; k++) client.write(`client ${i} line ${k}; `);
      return client.end();
    });
    net.run();
    clients.forEach((client, i) => {
      const sent = Array.from({ length: 10 }, (_, k) => `client ${i} line ${k}; `).join("");
      assert.is(client.text(), `hello\n${sent.toUpperCase()}got ${sent.length} bytes\n`, `seed ${net.seed}, client ${i}`);
      assert.ok(client.closed, `seed ${net.seed}, client ${i} closed`);
    });
  });
}

test("virtual time: a built-in protocol's idle timeout fires when the clock is advanced, not before", () => {
  const net = simulateModule({ protocol: "line", options: { idleTimeout: 1000 } });
  const client = net.connect().write("still here\n");
  net.run();
  assert.is(client.text(), "still here\n");
  assert.not.ok(client.closed);
  net.advance(1500);
  assert.ok(client.closed);
});

test("replayAgainst replays a recorded session against the same build and names a difference", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "wr-kit-"));
  try {
    const trace = path.join(dir, "session.wrt");
    const server = await createServer({ module: upper, host: HOST, port: 0, record: trace }).listen();
    const socket = await connect(server.address()!.port);
    assert.is((await receive(socket, 6)).toString(), "hello\n");
    socket.end("recorded");
    assert.is((await receiveAll(socket)).toString(), "RECORDEDgot 8 bytes\n");
    await server.close();
    assert.is(replayAgainst(trace).divergence, undefined);
    const other = replayAgainst(trace, fixtureModule("shout"));
    assert.ok(other.divergence, "another module's answers differ");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The bodies of the Content-Length responses in `text`, in order. */
function responseBodies(text: string): string[] {
  const bodies: string[] = [];
  for (let at = 0; at < text.length;) {
    const headEnd = text.indexOf("\r\n\r\n", at);
    if (headEnd < 0) break;
    const length = Number(/content-length: (\d+)/i.exec(text.slice(at, headEnd))?.[1] ?? 0);
    bodies.push(text.slice(headEnd + 4, headEnd + 4 + length));
    at = headEnd + 4 + length;
  }
  return bodies;
}

for (const seed of [1, 2, 3]) {
  test(`a JS request handler runs on the simulator: pipelined requests under every fault, seed ${seed}`, async () => {
    const net = simulateModule({ protocol: "http", seed, faults: "all", onRequest: async (req, res) => {
      res.setHeader("Content-Type", "text/plain");
      res.end(`${req.method} ${req.url} ${await req.text()}`);
    } });
    const clients = Array.from({ length: 10 }, (_, i) => {
      const client = net.connect();
      for (let k = 0; k < 3; k++) {
        const body = `client ${i} body ${k}`;
        client.write(`POST /c/${i}/${k} HTTP/1.1\r\nHost: sim\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      }
      return client.end();
    });
    await net.settle();
    clients.forEach((client, i) => {
      const expected = [0, 1, 2].map((k) => `POST /c/${i}/${k} client ${i} body ${k}`);
      assert.equal(responseBodies(client.text()), expected, `seed ${seed}, client ${i}`);
      assert.ok(client.closed);
    });
  });
}

test("settle() waits for a JS handler that answers after an await; a handler's throw is a 500 and lands in errors", async () => {
  const net = simulateModule({ protocol: "http", onRequest: async (req, res) => {
    if (req.url === "/throw") throw new Error("handler bug");
    await new Promise((resolve) => setTimeout(resolve, 20));
    res.end("later");
  } });
  const client = net.connect().write("GET /wait HTTP/1.1\r\nHost: sim\r\n\r\nGET /throw HTTP/1.1\r\nHost: sim\r\n\r\n");
  net.run();
  assert.is(client.text(), "", "nothing yet: the first answer waits on a timer, and the second waits behind it");
  await net.settle();
  assert.equal(responseBodies(client.text()), ["later", "Internal Server Error\n"]);
  assert.match(client.text(), /HTTP\/1.1 500/);
  assert.equal(net.errors.map((e) => e.message), ["handler bug"]);
});

test("virtual time: a JS handler that never answers gets a 503 at answerTimeout, a stalled body a 408 at headersTimeout; req hears 'aborted'", () => {
  const aborted: string[] = [];
  const net = simulateModule({ protocol: "http", options: { answerTimeout: 30_000, headersTimeout: 10_000 }, onRequest: (req) => {
    req.on("aborted", () => aborted.push(req.url));
    req.resume();
  } });
  const silent = net.connect();
  silent.write("GET /silent HTTP/1.1\r\nHost: sim\r\n\r\n");
  const stalled = net.connect();
  stalled.write("POST /stalled HTTP/1.1\r\nHost: sim\r\nContent-Length: 10\r\n\r\nhalf");
  net.run();
  net.advance(9_000);
  assert.is(stalled.text(), "", "not before headersTimeout");
  net.advance(1_000);
  assert.match(stalled.text(), /^HTTP\/1\.1 408 /);
  assert.ok(stalled.closed);
  net.advance(19_000);
  assert.is(silent.text(), "", "not before answerTimeout");
  net.advance(1_000);
  assert.match(silent.text(), /^HTTP\/1\.1 503 /);
  assert.ok(silent.closed);
  assert.equal(aborted, ["/stalled"]);
});

test("virtual time: a body trickling in past requestTimeout gets a 408 at its next byte", () => {
  const net = simulateModule({ protocol: "http", options: { requestTimeout: 20_000, headersTimeout: 10_000 }, onRequest: (req) => {
    req.resume();
  } });
  const client = net.connect();
  client.write("POST /slow HTTP/1.1\r\nHost: sim\r\nContent-Length: 100\r\n\r\n");
  net.run();
  for (let t = 0; t < 3; t++) {
    net.advance(6_000); // each gap within headersTimeout
    client.write("b");
    net.run();
    assert.is(client.text(), "", `nothing yet after ${(t + 1) * 6} s`);
  }
  net.advance(6_000); // 24 s since the request began
  client.write("b");
  net.run();
  assert.match(client.text(), /^HTTP\/1\.1 408 /);
  assert.ok(client.closed);
});

test("a JS WebSocket handler runs on the simulator: messages both ways, and the close code reaches it", () => {
  const closes: number[] = [];
  const net = simulateModule({ protocol: "ws", seed: 9, faults: "all", onWebSocket: (ws, req) => {
    ws.send(`welcome to ${req.url}`);
    ws.on("message", (data, isBinary) => ws.send(isBinary ? data : data.toString().toUpperCase()));
    ws.on("close", (code) => closes.push(code));
  } });
  const client = net.connect();
  client.write(webSocketUpgrade("/room")).write(webSocketFrame("hello")).write(webSocketFrame(Buffer.from([1, 2, 3])))
    .write(webSocketFrame("bye", { close: 1000 }));
  net.run();
  const messages = webSocketMessages(client.received());
  assert.equal(messages.map((m) => [m.opcode, m.opcode === 1 ? m.text : [...m.data]]),
    [[1, "welcome to /room"], [1, "HELLO"], [2, [1, 2, 3]], [8, [0x03, 0xe8]]]);
  assert.equal(closes, [1000]);
  assert.ok(client.closed);
});

test("verifyClient runs on the simulator under faults: a refusal is 401 and closes, an accepted upgrade's early frame arrives after the verdict", async () => {
  const net = simulateModule({ protocol: "ws", seed: 3, faults: "all",
    options: { verifyClient: async ({ req }) => req.url === "/members" },
    onWebSocket: (ws) => ws.on("message", (data) => ws.send(`got ${data}`)) });
  const refused = net.connect().write(webSocketUpgrade("/")).write(webSocketFrame("early"));
  const accepted = net.connect().write(webSocketUpgrade("/members")).write(webSocketFrame("early"));
  await net.settle();
  assert.match(refused.text(), /^HTTP\/1\.1 401 Unauthorized\r\n/);
  assert.not.match(refused.text(), /101/);
  assert.ok(refused.closed);
  assert.match(accepted.text(), /^HTTP\/1\.1 101 /);
  assert.equal(webSocketMessages(accepted.received()).map((m) => m.text), ["got early"]);
});

test("JS handlers on a protocol that has none are refused with a clear error", () => {
  assert.throws(() => simulateModule({ protocol: "echo", onRequest: () => {} }), /onRequest needs protocol "http" or "ws", not "echo"/);
  assert.throws(() => simulateModule({ protocol: "http", onWebSocket: () => {} }), /onWebSocket needs protocol "ws", not "http"/);
});

test.run();
