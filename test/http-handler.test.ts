// The JS request handler: server.on("request", (req, res) => …) on both socket hosts,
// checked with fetch and with raw sockets where the framing itself is the point.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { IncomingMessage } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "../src/server.js";
import type { IncomingRequest, ServerResponse } from "../src/http.js";
import { replayTrace } from "../host/replay.js";
import { BACKENDS, connect, receive, receiveAll, sleep, startServer } from "./helpers.js";
import type { ServerOptions } from "../src/options.js";

type Handler = (req: IncomingRequest, res: ServerResponse) => unknown;

async function withServer(options: ServerOptions, handler: Handler, body: (port: number, server: Server) => Promise<void>) {
  const { createServer } = await import("../src/server.js");
  const server = createServer({ host: "127.0.0.1", port: 0, protocol: "http", ...options });
  server.on("request", handler);
  server.on("requestError", () => {}); // thrown on purpose below
  await server.listen();
  try {
    await body(server.address()!.port, server);
  } finally {
    await server.close();
  }
}

const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

/** Reads one response off a raw socket: head and a Content-Length body. */
async function readResponse(socket: import("node:net").Socket, buffered: { rest: Buffer }): Promise<{ head: string; body: string }> {
  for (;;) {
    const end = buffered.rest.indexOf("\r\n\r\n");
    if (end >= 0) {
      const head = buffered.rest.subarray(0, end).toString("latin1");
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
      while (buffered.rest.length < end + 4 + length) buffered.rest = Buffer.concat([buffered.rest, await receive(socket, 1)]);
      const body = buffered.rest.subarray(end + 4, end + 4 + length).toString("latin1");
      buffered.rest = buffered.rest.subarray(end + 4 + length);
      return { head, body };
    }
    buffered.rest = Buffer.concat([buffered.rest, await receive(socket, 1)]);
  }
}

for (const backend of BACKENDS) {
  const test = suite(`http JS handler on the ${backend} host`);

  test("req carries method, url, headers and the whole body (Content-Length and chunked)", async () => {
    await withServer({ backend }, async (req, res) => {
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ method: req.method, url: req.url, version: req.httpVersion, headers: req.headers, body: await req.text() }));
    }, async (port) => {
      const r = await fetch(`http://127.0.0.1:${port}/p/q?x=1`, { method: "POST", body: "hello body", headers: { "X-Two": "a" } });
      assert.is(r.headers.get("content-type"), "application/json");
      const seen = await r.json() as Record<string, any>;
      assert.equal([seen.method, seen.url, seen.version, seen.body], ["POST", "/p/q?x=1", "1.1", "hello body"]);
      assert.is(seen.headers["x-two"], "a");
      assert.is(seen.headers.host, `127.0.0.1:${port}`);
      const socket = await connect(port);
      const got = receiveAll(socket);
      socket.end("PUT /c HTTP/1.1\r\nHost: t\r\nX-Rep: 1\r\nX-Rep: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nTrailer: x\r\n\r\n");
      const text = (await got).toString();
      const json = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4));
      assert.equal([json.method, json.body, json.headers["x-rep"]], ["PUT", "abcdefg", "1, 2"]);
    });
  });

  test("writeHead takes node:http's flat array of names and values; a name given twice keeps both", async () => {
    // Before the fix the array's indexes became the field names ("0: X-A").
    await withServer({ backend }, (req, res) => {
      res.writeHead(201, ["X-A", "1", "Set-Cookie", "a=1", "Set-Cookie", "b=2"]).end("made");
    }, async (port) => {
      const r = await fetch(`http://127.0.0.1:${port}/`);
      assert.is(r.status, 201);
      assert.is(r.headers.get("x-a"), "1");
      assert.equal(r.headers.getSetCookie(), ["a=1", "b=2"]);
      assert.is(r.headers.get("0"), null);
      assert.is(await r.text(), "made");
    });
  });

  test("write() without a length is chunked; HTTP/1.0 gets a close-delimited body instead", async () => {
    await withServer({ backend }, (req, res) => {
      res.writeHead(201, { "X-A": "1" });
      res.write("one,");
      res.write(Buffer.from("two,"));
      res.end("three");
    }, async (port) => {
      const s = await connect(port);
      const got = receiveAll(s);
      s.write(get("/", "Connection: close\r\n"));
      const text = (await got).toString();
      assert.match(text, /^HTTP\/1\.1 201 Created\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\nDate: [^\r]+\r\nConnection: close\r\n\r\n/);
      assert.ok(text.endsWith("\r\n\r\n4\r\none,\r\n4\r\ntwo,\r\n5\r\nthree\r\n0\r\n\r\n"), JSON.stringify(text));
      const old = await connect(port);
      const got10 = receiveAll(old);
      old.write("GET / HTTP/1.0\r\n\r\n");
      const text10 = (await got10).toString();
      assert.ok(!/transfer-encoding|content-length/i.test(text10), text10);
      assert.ok(text10.endsWith("\r\n\r\none,two,three"), text10);
    });
  });

  test("a thrown or rejected handler gets a 500, and the same connection serves the next request", async () => {
    await withServer({ backend }, async (req, res) => {
      if (req.url === "/sync") throw new Error("sync boom");
      if (req.url === "/async") { await sleep(5); throw new Error("async boom"); }
      res.end("fine");
    }, async (port) => {
      const s = await connect(port);
      const buffered = { rest: Buffer.alloc(0) };
      for (const path of ["/sync", "/ok", "/async", "/ok"]) {
        s.write(get(path));
        const r = await readResponse(s, buffered);
        if (path === "/ok") assert.is(r.body, "fine");
        else assert.match(r.head, /^HTTP\/1\.1 500 Internal Server Error/);
      }
      assert.ok(!s.closed);
      s.destroy();
    });
  });

  test("a framework that swaps req's prototype (as Express does), or a body listener that throws, cannot crash the process", async () => {
    // Before the fix, our glue called a method of req after the handler: gone with the
    // prototype, it threw outside any handler and took the process down.
    const errors: string[] = [];
    await withServer({ backend }, (req, res) => {
      if (req.url === "/swap") {
        // Express's swap: a prototype whose chain is node:http's IncomingMessage's, not ours.
        Object.setPrototypeOf(req, Object.create(IncomingMessage.prototype));
        req.on("end", () => res.end("swapped"));
        req.resume();
        return;
      }
      req.on("data", () => {
        throw new Error("listener boom");
      });
    }, async (port, server) => {
      server.on("requestError", (err) => errors.push(err.message));
      const s = await connect(port);
      const buffered = { rest: Buffer.alloc(0) };
      s.write(get("/swap"));
      assert.is((await readResponse(s, buffered)).body, "swapped");
      s.write("POST /data HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi");
      assert.match((await readResponse(s, buffered)).head, /^HTTP\/1\.1 500 /);
      assert.equal(errors, ["listener boom"]);
      s.destroy();
    });
  });

  test("pipelined requests to an async handler are answered in request order", async () => {
    let n = 0;
    await withServer({ backend }, async (req, res) => {
      await sleep((7 * ++n) % 13); // later requests may finish first
      res.end(req.url);
    }, async (port) => {
      const s = await connect(port);
      const paths = Array.from({ length: 20 }, (_, i) => `/r${i}`);
      s.write(paths.map((p) => get(p)).join(""));
      const buffered = { rest: Buffer.alloc(0) };
      const bodies: string[] = [];
      for (const _ of paths) bodies.push((await readResponse(s, buffered)).body);
      assert.equal(bodies, paths);
      s.destroy();
    });
  });

  test("static routes stay in the module next to the handler; HEAD gets no body", async () => {
    let calls = 0;
    await withServer({ backend, routes: { "/static": "from wasm" } }, (req, res) => {
      calls++;
      res.end("from js");
    }, async (port) => {
      assert.is(await (await fetch(`http://127.0.0.1:${port}/static`)).text(), "from wasm");
      assert.is(await (await fetch(`http://127.0.0.1:${port}/dynamic`)).text(), "from js");
      const head = await fetch(`http://127.0.0.1:${port}/dynamic`, { method: "HEAD" });
      assert.is(head.headers.get("content-length"), "7");
      assert.is(await head.text(), "");
      assert.is(calls, 2);
    });
  });

  test("a 4 MiB response body arrives intact", async () => {
    const big = Buffer.alloc(4 << 20, 0);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    await withServer({ backend }, (req, res) => res.end(big), async (port) => {
      const body = Buffer.from(await (await fetch(`http://127.0.0.1:${port}/`)).arrayBuffer());
      assert.ok(body.equals(big));
    });
  });

  test("a half-closed client still gets the answer to its request", async () => {
    await withServer({ backend }, async (req, res) => {
      await sleep(20);
      res.end("after your FIN");
    }, async (port) => {
      const s = await connect(port);
      const got = receiveAll(s);
      s.end(get("/"));
      assert.ok((await got).toString().endsWith("\r\n\r\nafter your FIN"));
    });
  });

  test("pipelined requests, then a half-close: every request is answered before the close", async () => {
    // Before the fix, the answer to the first request closed the connection and the
    // requests queued behind it were never answered.
    await withServer({ backend }, async (req, res) => {
      await sleep(5);
      res.end(req.url);
    }, async (port) => {
      const s = await connect(port);
      const got = receiveAll(s);
      s.end(get("/a") + get("/b") + get("/c"));
      const text = (await got).toString();
      assert.equal(text.match(/\r\n\r\n\/[abc]/g), ["\r\n\r\n/a", "\r\n\r\n/b", "\r\n\r\n/c"]);
    });
  });

  test("a recorded session with the JS handler replays without divergence", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wr-http-"));
    const trace = join(dir, "http.wrt");
    try {
      await withServer({ backend, record: trace }, async (req, res) => res.end(`echo ${await req.text()}`), async (port) => {
        for (let i = 0; i < 5; i++) await (await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: `n${i}` })).text();
      });
      const result = replayTrace(trace);
      assert.is(result.divergence, undefined);
      assert.ok(result.batches >= 10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.run();
}
