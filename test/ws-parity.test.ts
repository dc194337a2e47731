// What users of the `ws` package rely on, on the server-side WebSocket (protocol "ws"):
// ping/pong events, the close reason, every sendable close code, terminate(),
// server.clients as a Set, readyState constants, 'error' for a client's protocol error,
// send callbacks that wait for the socket, and the upgrade request's socket. The ws
// package's client on both socket hosts.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { WebSocket as ServerSocket } from "../src/websocket.js";
import { BACKENDS, connect, receive, sleep, waitFor } from "./helpers.js";
import { closeOf, open, withServer } from "./ws-clients.js";
import { clientFrame, SWITCHING, upgrade } from "./ws-scenarios.js";

/** The server side of the next connection. */
function nextServerSocket(): { onConnection: (ws: ServerSocket) => void; next: () => Promise<ServerSocket> } {
  const waiting: ((ws: ServerSocket) => void)[] = [];
  const arrived: ServerSocket[] = [];
  return {
    onConnection: (ws) => (waiting.length > 0 ? waiting.shift()!(ws) : arrived.push(ws)),
    next: () => (arrived.length > 0 ? Promise.resolve(arrived.shift()!) : new Promise((r) => waiting.push(r))),
  };
}

for (const backend of BACKENDS) {
  const test = suite(`ws-package parity of the JS WebSocket on the ${backend} host`);

  test("heartbeat: the server's ping gets the client's pong as a 'pong' event; the client's ping is a 'ping' event", async () => {
    const sockets = nextServerSocket();
    await withServer({ backend }, sockets.onConnection, async (port) => {
      const client = await open(port);
      const ws = await sockets.next();
      const pong = new Promise<string>((r) => ws.once("pong", (d) => r(d.toString())));
      ws.ping("heartbeat-1");
      assert.is(await pong, "heartbeat-1");
      const ping = new Promise<string>((r) => ws.once("ping", (d) => r(d.toString())));
      const clientPong = new Promise<string>((r) => client.once("pong", (d) => r(d.toString())));
      client.ping("from the client");
      assert.is(await ping, "from the client");
      assert.is(await clientPong, "from the client", "the module still answers pings itself");
      const unsolicited = new Promise<string>((r) => ws.once("pong", (d) => r(d.toString())));
      client.pong("unasked");
      assert.is(await unsolicited, "unasked");
      client.close();
    });
  });

  test("the client's close code and reason reach 'close'; a close without a code is 1005", async () => {
    const sockets = nextServerSocket();
    await withServer({ backend }, sockets.onConnection, async (port) => {
      const client = await open(port);
      const ws = await sockets.next();
      const closed = closeOf(ws);
      client.close(4001, "bye now, héllo");
      assert.equal(await closed, [4001, "bye now, héllo"]);
      assert.is(ws.readyState, ws.CLOSED);
      const second = await open(port);
      const ws2 = await sockets.next();
      const closed2 = closeOf(ws2);
      second.close();
      assert.equal(await closed2, [1005, ""]);
    });
  });

  test("close() takes every code an endpoint may send, with a reason; others are refused", async () => {
    const sockets = nextServerSocket();
    await withServer({ backend }, sockets.onConnection, async (port) => {
      for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]) {
        const client = await open(port);
        const ws = await sockets.next();
        const seen = closeOf(client);
        ws.close(code, `code ${code}`);
        assert.is(ws.readyState, ws.CLOSING);
        assert.equal(await seen, [code, `code ${code}`]);
      }
      const client = await open(port);
      const ws = await sockets.next();
      for (const code of [999, 1004, 1005, 1006, 1015, 1100, 2999, 5000, 1000.5]) {
        assert.throws(() => ws.close(code), (e: Error) => e instanceof RangeError && e.message.includes(String(code)), String(code));
      }
      assert.throws(() => ws.close(1000, "x".repeat(124)), /123 bytes/);
      assert.is(ws.readyState, ws.OPEN, "a refused close leaves the socket open");
      client.close();
    });
  });

  test("terminate() drops the connection at once: both sides hear 1006", async () => {
    const sockets = nextServerSocket();
    await withServer({ backend }, sockets.onConnection, async (port) => {
      const client = await open(port);
      const ws = await sockets.next();
      const serverSide = closeOf(ws);
      const clientSide = closeOf(client);
      ws.terminate();
      assert.equal(await clientSide, [1006, ""]);
      assert.equal(await serverSide, [1006, ""]);
    });
  });

  test("server.clients is a live Set of the open sockets; readyState constants on the instance and the class", async () => {
    const sockets = nextServerSocket();
    await withServer({ backend }, sockets.onConnection, async (port, server) => {
      const clients = [await open(port), await open(port), await open(port)];
      const mine = [await sockets.next(), await sockets.next(), await sockets.next()];
      assert.ok(server.clients instanceof Set);
      assert.is(server.clients.size, 3);
      for (const ws of mine) {
        assert.ok(server.clients.has(ws));
        assert.is(ws.readyState, ws.OPEN);
        assert.equal([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED], [0, 1, 2, 3]);
      }
      let n = 0;
      server.clients.forEach((ws) => ws.send(`to ${n++}`));
      const closed = closeOf(mine[1]);
      clients[1].close();
      await closed;
      assert.is(server.clients.size, 2);
      assert.not.ok(server.clients.has(mine[1]));
      for (const c of clients) c.terminate();
      await waitFor(() => server.clients.size === 0, 5000, "every socket gone from clients");
    });
  });

  test("a client's protocol error is an 'error' event (with ws's code) before 'close'; without a listener nothing throws", async () => {
    const events: string[] = [];
    let done!: () => void;
    const over = new Promise<void>((r) => (done = r));
    let listen = true;
    await withServer({ backend }, (ws) => {
      if (listen) ws.on("error", (err) => events.push(`error ${err.code}`));
      ws.on("close", (code) => {
        events.push(`close ${code}`);
        done();
      });
    }, async (port) => {
      const s = await connect(port);
      s.on("error", () => {});
      s.write(upgrade());
      await receive(s, SWITCHING.length);
      s.write(clientFrame(1, Buffer.from([0xc3, 0x28]))); // invalid UTF-8 in a text frame
      await over;
      assert.equal(events, ["error WS_ERR_INVALID_UTF8", "close 1007"]);
      s.destroy();
      // No 'error' listener: the process must not hear an unhandled 'error'.
      listen = false;
      events.length = 0;
      const again = new Promise<void>((r) => (done = r));
      const t = await connect(port);
      t.on("error", () => {});
      t.write(upgrade());
      await receive(t, SWITCHING.length);
      t.write(Buffer.from([0x81, 0x05, 0x68, 0x65])); // an unmasked client frame
      await again;
      assert.equal(events, ["close 1002"]);
      t.destroy();
      const still = await open(port);
      still.close();
    });
  });

  test("a send callback runs once the bytes went to the socket, not when send() returns; after close it gets an error", async () => {
    const sockets = nextServerSocket();
    await withServer({ backend }, sockets.onConnection, async (port) => {
      const s = await connect(port);
      s.write(upgrade());
      await receive(s, SWITCHING.length);
      const ws = await sockets.next();
      s.pause(); // the client stops reading: 24 MiB cannot all fit in the socket buffers
      const outcome: string[] = [];
      const big = Buffer.alloc(24 << 20, 7);
      ws.send(big, (err) => outcome.push(err ? `error ${err.message}` : "sent"));
      await sleep(300);
      assert.equal(outcome, [], "the callback waits for the socket");
      let got = 0;
      s.on("data", (d) => (got += d.length));
      s.resume();
      await waitFor(() => outcome.length === 1, 10_000, "the callback after the client read");
      assert.equal(outcome, ["sent"]);
      // What the client had not read yet can only be in socket buffers (a few MiB on loopback).
      assert.ok(got >= big.length - (16 << 20), `the client had read only ${got} bytes when the callback ran`);
      const small = await new Promise<Error | undefined>((r) => ws.send("and then", r));
      assert.is(small, undefined);
      const closed = closeOf(ws);
      s.destroy();
      await closed;
      const failed = await new Promise<Error | undefined>((r) => ws.send("too late", r));
      assert.instance(failed, Error);
    });
  });

  test("onBackpressure \"drop\": a dropped message's send callback gets an error; an earlier one waits for the socket", async () => {
    const sockets = nextServerSocket();
    await withServer({ backend, maxBufferedAmount: 1 << 20, onBackpressure: "drop" }, sockets.onConnection, async (port) => {
      const s = await connect(port);
      s.write(upgrade());
      await receive(s, SWITCHING.length);
      const ws = await sockets.next();
      s.pause();
      const outcome: string[] = [];
      ws.send(Buffer.alloc(24 << 20, 1), (err) => outcome.push(err ? "big: error" : "big: sent"));
      await sleep(100);
      ws.send("small", (err) => outcome.push(err ? `small: ${err.message}` : "small: sent"));
      await waitFor(() => outcome.length === 1, 5000, "the dropped one's callback");
      assert.match(outcome[0], /^small: .*dropped/);
      await sleep(200);
      assert.equal(outcome.length, 1, "the big one still waits for the socket");
      s.resume();
      s.on("data", () => {});
      await waitFor(() => outcome.length === 2, 10_000, "the big one's callback");
      assert.is(outcome[1], "big: sent");
      s.destroy();
    });
  });

  test("the upgrade request carries the client's address in req.socket", async () => {
    const seen: string[] = [];
    await withServer({ backend }, (ws, req) => seen.push(`${req.socket?.remoteAddress} ${req.socket?.remotePort} ${req.socket?.localPort}`),
      async (port) => {
        const s = await connect(port);
        s.write(upgrade());
        await receive(s, SWITCHING.length);
        await waitFor(() => seen.length === 1, 5000, "the connection");
        assert.equal(seen, [`127.0.0.1 ${s.localPort} ${port}`]);
        s.destroy();
      });
  });

  test.run();
}
