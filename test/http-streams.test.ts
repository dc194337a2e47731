// req and res as streams on real sockets: bodies of any size in pieces, backpressure
// both ways with module memory bounded, clients that go away, and node:http's surface
// (socket addresses, statusMessage, flushHeaders, setTimeout, 'finish' and 'close').
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createHash, randomBytes } from "node:crypto";
import { request } from "node:http";
import type net from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createServer, type Server } from "../src/server.js";
import type { IncomingRequest, ServerResponse } from "../src/http.js";
import { BACKENDS, closed, connect, HOST, receive, receiveAll, sleep } from "./helpers.js";
import type { ServerOptions } from "../src/options.js";

const MIB = 1 << 20;
const MEMORY_BOUND = 48 * MIB;
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
type Handler = (req: IncomingRequest, res: ServerResponse) => unknown;

async function withServer(options: ServerOptions, handler: Handler, body: (port: number, server: Server) => Promise<void>) {
  const server = createServer({ host: HOST, port: 0, ...options }, handler);
  server.on("requestError", () => {}); // some handlers below fail on purpose
  await server.listen();
  try {
    await body(server.address()!.port, server);
  } finally {
    await server.close();
  }
}

/** Reads from a raw socket until `pattern` has arrived; resolves with all bytes so far. */
async function readUntil(socket: net.Socket, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  let text = "";
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(text)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; got ${JSON.stringify(text.slice(0, 200))}`);
    text += (await receive(socket, 1, deadline - Date.now())).toString("latin1");
  }
  return text;
}

for (const backend of BACKENDS) {
  const test = suite(`HTTP streams on the ${backend} host`);

  test("a 50 MiB upload streams through req (for await) and is hashed whole; module memory stays under 48 MiB", async () => {
    const body = randomBytes(50 * MIB);
    await withServer({ backend }, async (req, res) => {
      await sleep(200); // not read at first: the socket must stop being read meanwhile
      const hash = createHash("sha256");
      let bytes = 0;
      for await (const chunk of req) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
      res.end(`${bytes} ${hash.digest("hex")}`);
    }, async (port, server) => {
      const answer = await new Promise<string>((resolve, reject) => {
        const r = request({ host: HOST, port, method: "POST", path: "/up", headers: { "content-length": body.length } }, (res) => {
          let text = "";
          res.setEncoding("utf8").on("data", (d: string) => (text += d)).on("end", () => resolve(text));
        });
        r.on("error", reject);
        r.end(body);
      });
      assert.is(answer, `${body.length} ${sha256(body)}`);
      assert.ok(server.stats().moduleMemoryBytes < MEMORY_BOUND, `module memory ${server.stats().moduleMemoryBytes}`);
    });
  });

  test("a chunked upload arrives through pipe() and setEncoding(), and text() past maxBodySize is a 413", async () => {
    await withServer({ backend, maxBodySize: 1000 }, async (req, res) => {
      if (req.url === "/text") {
        res.end(await req.text()); // rejects past maxBodySize: the server answers 413
        return;
      }
      req.setEncoding("utf8");
      let text = "";
      req.on("data", (s: string) => (text += s));
      req.on("end", () => res.end(`${typeof text} ${text.length} ${text.slice(0, 5)}`));
    }, async (port) => {
      const parts = Array.from({ length: 40 }, (_, i) => `part${i}-`.padEnd(100, "x"));
      const streamed = await fetch(`http://${HOST}:${port}/pipe`, { method: "POST", body: Readable.toWeb(Readable.from(parts)) as ReadableStream, duplex: "half" } as RequestInit);
      assert.is(await streamed.text(), "string 4000 part0");
      const big = await fetch(`http://${HOST}:${port}/text`, { method: "POST", body: "y".repeat(5000) });
      assert.is(big.status, 413);
      const small = await fetch(`http://${HOST}:${port}/text`, { method: "POST", body: "fits" });
      assert.is(await small.text(), "fits");
    });
  });

  test("maxStreamedBodySize caps a streamed body: a larger Content-Length or chunked body gets 413 before the handler sees a byte too many", async () => {
    const seen: number[] = [];
    await withServer({ backend, maxStreamedBodySize: 1000 }, async (req, res) => {
      let n = 0;
      for await (const chunk of req) n += (chunk as Buffer).length;
      seen.push(n);
      res.end(String(n));
    }, async (port) => {
      assert.is(await (await fetch(`http://${HOST}:${port}/`, { method: "POST", body: "z".repeat(1000) })).text(), "1000");
      const long = await fetch(`http://${HOST}:${port}/`, { method: "POST", body: "z".repeat(1001) });
      assert.is(long.status, 413);
      const s = await connect(port);
      s.write("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" + "c".repeat(1000) + "\r\n1\r\nc\r\n0\r\n\r\n");
      const text = (await receiveAll(s)).toString("latin1");
      assert.match(text, /^HTTP\/1\.1 413 /);
      assert.equal(seen, [1000]);
    });
  });

  test("a client that stops reading: write() turns false, 'drain' comes once it reads, 64 MiB arrive whole, memory bounded", async () => {
    const seen = { falses: 0, drains: 0, written: 0, finished: false };
    await withServer({ backend }, (req, res) => {
      res.setHeader("Content-Length", 64 * MIB);
      let i = 0;
      const more = () => {
        while (i < 64) {
          const ok = res.write(Buffer.alloc(MIB, i++));
          seen.written++;
          if (!ok) {
            seen.falses++;
            res.once("drain", () => {
              seen.drains++;
              more();
            });
            return;
          }
        }
        res.end();
      };
      res.on("finish", () => (seen.finished = true));
      more();
    }, async (port, server) => {
      const inUseAtStart = server.stats().moduleMemoryInUseBytes; // the rings and arena (bigger on io_uring)
      const s = await connect(port);
      s.write("GET /big HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
      s.pause();
      await sleep(500); // the kernel's socket buffers fill, then the writes stall
      const stalledAt = seen.written;
      await sleep(300);
      assert.ok(seen.falses >= 1, "write() returned false while the client did not read");
      assert.is(seen.written, stalledAt, "no progress while the client does not read");
      assert.ok(stalledAt < 64, `${stalledAt} MiB written to a client that reads nothing`);
      const drainsBefore = seen.drains;
      assert.ok(server.stats().moduleMemoryBytes < MEMORY_BOUND, `module memory ${server.stats().moduleMemoryBytes}`);
      const hash = createHash("sha256");
      let head = true;
      let bodyBytes = 0;
      s.on("data", (d: Buffer) => {
        if (head) {
          const end = d.indexOf("\r\n\r\n");
          d = d.subarray(end + 4);
          head = false;
        }
        bodyBytes += d.length;
        hash.update(d);
      });
      s.resume();
      await closed(s);
      const want = createHash("sha256");
      for (let i = 0; i < 64; i++) want.update(Buffer.alloc(MIB, i));
      assert.is(bodyBytes, 64 * MIB);
      assert.is(hash.digest("hex"), want.digest("hex"));
      assert.ok(seen.drains > drainsBefore, "'drain' once the client reads");
      assert.ok(seen.finished);
      const { moduleMemoryBytes, moduleMemoryInUseBytes } = server.stats();
      assert.ok(moduleMemoryBytes < MEMORY_BOUND, `module memory ${moduleMemoryBytes}`);
      // Once the exchange is over, what it used is free again: in use is back near the rings and arena.
      assert.ok(moduleMemoryInUseBytes <= moduleMemoryBytes && moduleMemoryInUseBytes < inUseAtStart + 6 * MIB,
        `in use ${moduleMemoryInUseBytes}, ${inUseAtStart} at the start`);
    });
  });

  test("a handler that ignores write()'s false cannot grow module memory: the pieces wait in JS", async () => {
    await withServer({ backend }, (req, res) => {
      for (let i = 0; i < 64; i++) res.write(Buffer.alloc(MIB, 7));
      res.end();
    }, async (port, server) => {
      const s = await connect(port);
      s.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
      s.pause();
      await sleep(400);
      assert.ok(server.stats().moduleMemoryBytes < MEMORY_BOUND, `module memory ${server.stats().moduleMemoryBytes}`);
      s.destroy();
    });
  });

  test("a client that goes away: req 'aborted', res 'close' (no 'finish'), writes fail quietly, the server serves on", async () => {
    const events: string[] = [];
    let gone!: () => void;
    const over = new Promise<void>((resolve) => (gone = resolve));
    await withServer({ backend }, (req, res) => {
      if (req.url === "/ok") return res.end("still here");
      req.on("aborted", () => events.push("req aborted"));
      res.on("finish", () => events.push("res finish"));
      res.on("close", () => {
        events.push("res close");
        res.write("too late", (err) => {
          events.push(`write: ${err ? "failed" : "ok"}`);
          gone();
        });
      });
      req.resume();
    }, async (port, server) => {
      const s = await connect(port);
      s.write("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\nonly some of it");
      await sleep(100);
      s.destroy();
      await over;
      assert.equal(events, ["req aborted", "res close", "write: failed"]);
      assert.is(server.stats().connections, 0);
      const again = await connect(port);
      again.write("GET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
      assert.match((await receiveAll(again)).toString(), /still here$/);
    });
  });

  test("a handler that destroys req.socket mid-upload ends the exchange: req 'aborted', res 'close', the client sees the connection close", async () => {
    const events: string[] = [];
    await withServer({ backend }, (req, res) => {
      if (req.url === "/ok") return res.end("fine");
      req.on("aborted", () => events.push("req aborted"));
      res.on("close", () => events.push("res close"));
      req.once("data", () => req.socket!.destroy());
    }, async (port) => {
      const s = await connect(port);
      s.on("error", () => {}); // the close may come as a reset
      s.write("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n" + "u".repeat(5000));
      await closed(s);
      assert.equal(events, ["req aborted", "res close"]);
      assert.is(await (await fetch(`http://${HOST}:${port}/ok`)).text(), "fine");
    });
  });

  test("req.socket has the peer's address and port and ours; rawHeaders, httpVersion, statusMessage, finish after end()", async () => {
    let finishedInEnd = true;
    await withServer({ backend }, (req, res) => {
      res.statusMessage = "Quite Fine";
      res.setHeader("X-Peer", `${req.socket!.remoteAddress} ${req.socket!.remotePort} ${req.socket!.localPort}`);
      res.setHeader("X-Raw", JSON.stringify(req.rawHeaders));
      res.setHeader("X-Version", req.httpVersion);
      let finished = false;
      res.on("finish", () => (finished = true));
      res.end("ok");
      finishedInEnd = finished;
    }, async (port) => {
      const s = await connect(port);
      s.write("GET / HTTP/1.1\r\nHost: t\r\nX-Case: Kept\r\nConnection: close\r\n\r\n");
      const text = await readUntil(s, /\r\n\r\nok$/);
      assert.match(text, /^HTTP\/1\.1 200 Quite Fine\r\n/);
      assert.match(text, new RegExp(`\r\nX-Peer: 127\\.0\\.0\\.1 ${s.localPort} ${port}\r\n`));
      assert.ok(text.includes(`X-Raw: ${JSON.stringify(["Host", "t", "X-Case", "Kept", "Connection", "close"])}`));
      assert.match(text, /\r\nX-Version: 1\.1\r\n/);
      s.destroy();
    });
    assert.is(finishedInEnd, false, "'finish' comes once the bytes were handed over, not inside end()");
  });

  test("writeHead() fixes the fields as node:http's does (headersSent, setHeader throws), yet a throw before any byte went out is still a 500", async () => {
    const seen: string[] = [];
    await withServer({ backend }, (req, res) => {
      res.writeHead(201, { "X-A": "1" });
      seen.push(String(res.headersSent));
      try {
        res.setHeader("X-B", "2");
      } catch (err) {
        seen.push((err as NodeJS.ErrnoException).code!);
      }
      if (req.url === "/throw") throw new Error("after writeHead");
      res.end("made");
    }, async (port) => {
      const made = await fetch(`http://${HOST}:${port}/`);
      assert.is(made.status, 201);
      assert.is(made.headers.get("x-a"), "1");
      assert.is(await made.text(), "made");
      const failed = await fetch(`http://${HOST}:${port}/throw`);
      assert.is(failed.status, 500);
      assert.is(failed.headers.get("x-a"), null);
      assert.equal(seen, ["true", "ERR_HTTP_HEADERS_SENT", "true", "ERR_HTTP_HEADERS_SENT"]);
    });
  });

  test("flushHeaders() sends the head before the body; res.setTimeout() fires 'timeout' for a silent handler", async () => {
    let release!: () => void;
    await withServer({ backend }, (req, res) => {
      if (req.url === "/flush") {
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.flushHeaders();
        release = () => res.end("body later");
        return;
      }
      res.setTimeout(100, () => {
        res.statusCode = 504;
        res.end("timed out");
      });
    }, async (port) => {
      const s = await connect(port);
      s.write("GET /flush HTTP/1.1\r\nHost: t\r\n\r\n");
      const head = await readUntil(s, /\r\n\r\n/);
      assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(head, /Transfer-Encoding: chunked/);
      release();
      assert.match(await readUntil(s, /0\r\n\r\n$/), /body later/);
      s.destroy();
      const started = Date.now();
      const r = await fetch(`http://${HOST}:${port}/silent`);
      assert.is(r.status, 504);
      assert.is(await r.text(), "timed out");
      assert.ok(Date.now() - started >= 90);
    });
  });

  test("a handler that never answers gets the client a 503 after answerTimeout; a stalled body a 408", async () => {
    const aborted: string[] = [];
    await withServer({ backend, answerTimeout: 150, headersTimeout: 150 }, (req) => {
      req.on("aborted", () => aborted.push(req.url));
      req.resume();
    }, async (port) => {
      const started = Date.now();
      const r = await fetch(`http://${HOST}:${port}/never`);
      assert.is(r.status, 503);
      assert.ok(Date.now() - started >= 140, `answered after ${Date.now() - started} ms`);
      const s = await connect(port);
      s.write("POST /stalled HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhalf");
      assert.match(await readUntil(s, /\r\n\r\n/), /^HTTP\/1\.1 408 /);
      await closed(s);
      await sleep(20);
      assert.equal(aborted, ["/stalled"]);
    });
  });

  test("a throw anywhere on the request path is a 500 (or a closed connection once the head went out), never a crash", async () => {
    const errors: string[] = [];
    const cases: Record<string, Handler> = {
      "/sync": () => {
        throw new Error("sync");
      },
      "/async": async () => {
        await sleep(1);
        throw new Error("async");
      },
      "/data": (req) => {
        req.on("data", () => {
          throw new Error("in data");
        });
      },
      "/end": (req, res) => {
        req.on("end", () => {
          throw new Error("in end");
        });
        req.resume();
        void res;
      },
      "/finish": (req, res) => {
        res.on("finish", () => {
          throw new Error("in finish");
        });
        res.end("answered");
      },
      "/midway": (req, res) => {
        res.write("part of it");
        return Promise.reject(new Error("midway"));
      },
      "/after-end": (req, res) => {
        res.end("done");
        res.write("more");
      },
    };
    await withServer({ backend }, (req, res) => cases[req.url]!(req, res), async (port, server) => {
      server.on("requestError", (err) => errors.push(err.message));
      for (const path of ["/sync", "/async", "/data", "/end"]) {
        const r = await fetch(`http://${HOST}:${port}${path}`, { method: "POST", body: "x" });
        assert.is(r.status, 500, path);
      }
      assert.is(await (await fetch(`http://${HOST}:${port}/finish`)).text(), "answered");
      const s = await connect(port);
      s.write("GET /midway HTTP/1.1\r\nHost: t\r\n\r\n");
      // The connection closes: the chunked body is never terminated, so the client cannot take it for whole.
      const cut = (await receiveAll(s)).toString("latin1");
      assert.not.match(cut, /0\r\n\r\n$/);
      assert.is(await (await fetch(`http://${HOST}:${port}/after-end`)).text(), "done");
      await sleep(20);
      assert.equal(errors.sort(), ["async", "in data", "in end", "in finish", "midway", "sync", "wasm-reactor: write after end"].sort());
    });
  });

  test("pipeline(source, res) from a fast source holds a bounded amount in the module", async () => {
    let peak = 0;
    await withServer({ backend }, async (req, res) => {
      await pipeline(Readable.from((function* () {
        for (let i = 0; i < 48; i++) yield Buffer.alloc(MIB, i);
      })()), res);
    }, async (port, server) => {
      const timer = setInterval(() => (peak = Math.max(peak, server.stats().moduleMemoryBytes)), 5);
      const r = await fetch(`http://${HOST}:${port}/`);
      const got = Buffer.from(await r.arrayBuffer());
      clearInterval(timer);
      assert.is(got.length, 48 * MIB);
      assert.ok(peak < MEMORY_BOUND, `peak module memory ${peak}`);
    });
  });

  test.run();
}
