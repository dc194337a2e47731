// WebSocket with JS handlers (protocol "ws"): the ws package as the client, on both socket hosts.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { replayTrace } from "../host/replay.js";
import type { WebSocket as ServerSocket } from "../src/websocket.js";
import { BACKENDS, connect, receive, sleep, waitFor } from "./helpers.js";
import { closeOf, open, withServer } from "./ws-clients.js";
import { clientFrame, SWITCHING, upgrade } from "./ws-scenarios.js";

for (const backend of BACKENDS) {
  const test = suite(`WebSocket JS API on the ${backend} host`);

  test("connection gets the upgrade request; messages keep their type; closes carry codes both ways", async () => {
    const seen: string[] = [];
    let serverClose: Promise<number> | undefined;
    await withServer({ backend }, (ws, req) => {
      seen.push(`${req.url} ${req.headers["sec-websocket-version"]}`);
      serverClose = new Promise((r) => ws.on("close", (code: number) => r(code)));
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        if (data.toString() === "close me") ws.close(4000, "as asked");
        else ws.send(isBinary ? Buffer.concat([Buffer.from("bin:"), data]) : `text:${data}`);
      });
    }, async (port) => {
      const ws = await open(port, "/room?id=7");
      const replies: string[] = [];
      ws.on("message", (d, isBinary) => replies.push(`${isBinary ? "B" : "T"} ${d}`));
      ws.send("hi");
      ws.send(Buffer.from("raw"));
      await waitFor(() => replies.length === 2, 5000, "two replies");
      assert.equal(replies, ["T text:hi", "B bin:raw"]);
      const closed = closeOf(ws);
      ws.send("close me");
      assert.equal(await closed, [4000, "as asked"]);
      assert.is(await serverClose, 4000);
      assert.equal(seen, ["/room?id=7 13"]);
      const second = await open(port);
      await waitFor(() => seen.length === 2, 5000, "second connection");
      const secondClosed = serverClose!;
      second.close(4321);
      assert.is(await secondClosed, 4321);
    });
  });

  test("a 4 MiB message goes both ways intact", async () => {
    await withServer({ backend }, (ws) => ws.on("message", (d: Buffer) => ws.send(d)), async (port) => {
      const big = Buffer.alloc(4 << 20);
      for (let i = 0; i < big.length; i += 512) big[i] = (i >> 9) & 0xff;
      const ws = await open(port);
      const reply = new Promise<Buffer>((r) => ws.once("message", (d) => r(d as Buffer)));
      ws.send(big);
      assert.ok((await reply).equals(big));
      ws.close();
    });
  });

  test("broadcast reaches every client, in slices when the batch is small", async () => {
    await withServer({ backend, eventCapacity: 16 }, () => {}, async (port, server) => {
      const clients = await Promise.all(Array.from({ length: 100 }, () => open(port)));
      await waitFor(() => server.clients.size === 100, 5000, "100 connections");
      const got = clients.map((ws) => new Promise<string>((r) => ws.once("message", (d) => r(d.toString()))));
      server.broadcast("news for all");
      assert.ok((await Promise.all(got)).every((m) => m === "news for all"));
      for (const ws of clients) ws.terminate();
    });
  });

  test("HTTP routes answer next to WebSocket on the same port", async () => {
    await withServer({ backend, routes: { "/health": "ok" } }, () => {}, async (port) => {
      assert.is(await (await fetch(`http://127.0.0.1:${port}/health`)).text(), "ok");
      const ws = await open(port, "/socket");
      ws.close();
    });
  });

  test("a client that stops reading: send() turns false, then the connection closes with 1008 past the limit", async () => {
    let serverSide: ServerSocket | undefined;
    await withServer({ backend, maxBufferedAmount: 1 << 20 }, (ws) => (serverSide = ws), async (port, server) => {
      const ws = await open(port);
      await waitFor(() => serverSide !== undefined, 5000, "connection");
      (ws as unknown as { _socket: import("node:net").Socket })._socket.pause();
      const closed = new Promise<number>((r) => serverSide!.on("close", (code: number) => r(code)));
      const chunk = Buffer.alloc(64 * 1024, 1);
      let sawFalse = false;
      for (let i = 0; i < 400 && serverSide!.readyState === 1; i++) {
        if (!serverSide!.send(chunk)) sawFalse = true;
        await sleep(2);
      }
      assert.ok(sawFalse, "send() never reported backpressure");
      assert.is(await closed, 1008);
      assert.ok(server.stats().connectionMemoryBytes < 64 << 20, `module kept ${server.stats().connectionMemoryBytes} bytes`);
      ws.terminate();
    });
  });

  test("with onBackpressure: drop, the slow client keeps its connection and drain fires once it reads", async () => {
    let serverSide: ServerSocket | undefined;
    await withServer({ backend, maxBufferedAmount: 1 << 20, onBackpressure: "drop" }, (ws) => (serverSide = ws), async (port) => {
      const ws = await open(port);
      await waitFor(() => serverSide !== undefined, 5000, "connection");
      const socket = (ws as unknown as { _socket: import("node:net").Socket })._socket;
      socket.pause();
      const drained = new Promise<void>((r) => serverSide!.once("drain", () => r()));
      const chunk = Buffer.alloc(64 * 1024, 2);
      for (let i = 0; i < 200; i++) {
        serverSide!.send(chunk);
        await sleep(1);
      }
      assert.is(serverSide!.readyState, 1);
      socket.resume();
      await drained;
      const echo = new Promise<string>((r) => ws.on("message", (d) => { if (d.toString() === "still here") r("ok"); }));
      serverSide!.send("still here");
      assert.is(await echo, "ok");
      ws.terminate();
    });
  });

  test("messages whole before a protocol error in the same read reach JS before the close (1002)", async () => {
    const events: string[] = [];
    let closed!: () => void;
    const over = new Promise<void>((r) => (closed = r));
    await withServer({ backend }, (ws) => {
      ws.on("message", (d: Buffer, binary) => events.push(`${binary ? "binary" : "text"} ${d}`));
      ws.on("close", (code) => {
        events.push(`close ${code}`);
        closed();
      });
    }, async (port) => {
      const s = await connect(port);
      s.on("error", () => {});
      s.write(upgrade());
      await receive(s, SWITCHING.length);
      // Two whole messages and a frame with a reserved opcode, in one write.
      s.write(Buffer.concat([clientFrame(1, "one"), clientFrame(2, "two"), Buffer.from([0x83])]));
      await over;
      assert.equal(events, ["text one", "binary two", "close 1002"]);
      s.destroy();
    });
  });

  test("a recorded WebSocket session replays without divergence", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wr-ws-"));
    const trace = join(dir, "ws.wrt");
    try {
      await withServer({ backend, record: trace }, (ws) => ws.on("message", (d: Buffer) => ws.send(d)), async (port) => {
        const ws = await open(port);
        for (let i = 0; i < 5; i++) {
          const reply = new Promise((r) => ws.once("message", r));
          ws.send(`message ${i}`);
          await reply;
        }
        const closed = closeOf(ws);
        ws.close(1000);
        await closed;
      });
      const result = replayTrace(trace);
      assert.is(result.divergence, undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.run();
}
