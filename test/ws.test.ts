// WebSocket with a real client (the ws package) against ws-echo, on both socket hosts.
// Byte-exact framing and every close code are in ws-scenarios.ts (conformance).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import WebSocket from "ws";
import { createServer } from "../src/index.js";
import { BACKENDS, HOST, startServer } from "./helpers.js";

function open(port: number, path = "/"): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    ws.once("message", (data, isBinary) => resolve({ data: data as Buffer, isBinary }));
    ws.once("close", (code) => reject(new Error(`closed with ${code} before a message`)));
  });
}

for (const backend of BACKENDS) {
  const test = suite(`WebSocket echo with the ws client on the ${backend} host`);

  test("text and binary messages come back with their type; ping gets its pong", async () => {
    const server = await startServer({ backend, protocol: "ws-echo" });
    try {
      const ws = await open(server.address()!.port);
      ws.send("héllo wörld");
      const text = await nextMessage(ws);
      assert.is(text.isBinary, false);
      assert.is(text.data.toString(), "héllo wörld");
      ws.send(Buffer.from([0, 1, 2, 255]));
      const bin = await nextMessage(ws);
      assert.is(bin.isBinary, true);
      assert.equal([...bin.data], [0, 1, 2, 255]);
      const pong = new Promise<string>((r) => ws.once("pong", (d) => r(d.toString())));
      ws.ping("marco");
      assert.is(await pong, "marco");
      const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
      ws.close(4321);
      assert.is(await closed, 4321);
    } finally {
      await server.close();
    }
  });

  test("16 MiB messages, in one frame and in fragments, come back intact", async () => {
    const server = await startServer({ backend, protocol: "ws-echo" });
    try {
      const ws = await open(server.address()!.port);
      const big = Buffer.alloc(16 << 20);
      for (let i = 0; i < big.length; i += 4096) big[i] = (i >> 12) & 0xff;
      ws.send(big);
      assert.ok((await nextMessage(ws)).data.equals(big));
      const half = big.length / 2;
      ws.send(big.subarray(0, half), { fin: false });
      ws.send(big.subarray(half), { fin: true });
      assert.ok((await nextMessage(ws)).data.equals(big));
      ws.terminate();
    } finally {
      await server.close();
    }
  });

  test("a message over maxPayload is closed with 1009", async () => {
    const server = await startServer({ backend, protocol: "ws-echo", maxPayload: 1000 });
    try {
      const ws = await open(server.address()!.port);
      const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
      ws.send(Buffer.alloc(1001));
      assert.is(await closed, 1009);
    } finally {
      await server.close();
    }
  });

  test("1000 clients each get their own messages back", async () => {
    const server = await startServer({ backend, protocol: "ws-echo" });
    try {
      const port = server.address()!.port;
      const clients = await Promise.all(Array.from({ length: 1000 }, () => open(port)));
      const replies = await Promise.all(clients.map(async (ws, i) => {
        const got = nextMessage(ws);
        ws.send(`client ${i}`);
        return (await got).data.toString();
      }));
      assert.ok(replies.every((r, i) => r === `client ${i}`));
      for (const ws of clients) ws.terminate();
    } finally {
      await server.close();
    }
  });

  test("plain requests on the same port go to a 'request' listener, routes stay in the module, WebSockets still echo", async () => {
    const server = createServer({ host: HOST, port: 0, backend, protocol: "ws-echo", routes: { "/health": "ok" } },
      (req, res) => res.end(`js saw ${req.method} ${req.url}`));
    await server.listen();
    try {
      const port = server.address()!.port;
      assert.is(await (await fetch(`http://${HOST}:${port}/anything?x=1`)).text(), "js saw GET /anything?x=1");
      assert.is(await (await fetch(`http://${HOST}:${port}/health`)).text(), "ok");
      const ws = await open(port);
      ws.send("still echoing");
      assert.is((await nextMessage(ws)).data.toString(), "still echoing");
      ws.close();
    } finally {
      await server.close();
    }
  });

  test("shutdown tells open WebSockets 1001 (going away)", async () => {
    const server = await startServer({ backend, protocol: "ws-echo" });
    const ws = await open(server.address()!.port);
    const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
    await server.close();
    assert.is(await closed, 1001);
  });

  test.run();
}
