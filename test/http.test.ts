// HTTP against real clients: curl, fetch and node:http with a keep-alive agent, on
// both socket hosts. Byte-exact protocol cases are in http-scenarios.ts (conformance).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import http from "node:http";
import { promisify } from "node:util";
import { BACKENDS, connect, receiveAll, sleep, startServer } from "./helpers.js";

const run = promisify(execFile);
const ROUTES = { "/": "hello\n", "/json": { headers: { "Content-Type": "application/json" }, body: '{"ok":true}' } };

function curl(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run("curl", ["--silent", "--show-error", "--max-time", "10", ...args]);
}

for (const backend of BACKENDS) {
  const test = suite(`http with real clients on the ${backend} host`);

  test("curl: GET, HEAD and a 404, two requests over one kept-alive connection", async () => {
    const server = await startServer({ backend, protocol: "http", routes: ROUTES });
    const base = `http://127.0.0.1:${server.address()!.port}`;
    try {
      const get = await curl(["--include", `${base}/`]);
      assert.match(get.stdout, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(get.stdout, /\r\nContent-Length: 6\r\n/);
      assert.ok(get.stdout.endsWith("\r\n\r\nhello\n"), get.stdout);
      const head = await curl(["--head", `${base}/json`]);
      assert.match(head.stdout, /Content-Type: application\/json\r\nContent-Length: 11\r\n/);
      const both = await curl(["--verbose", "--write-out", "%{http_code}\n", `${base}/json`, `${base}/missing`]);
      assert.ok(both.stdout.startsWith('{"ok":true}200\n'), both.stdout);
      assert.ok(both.stdout.endsWith("Not Found\n404\n"), both.stdout);
      assert.match(both.stderr, /Re-using existing connection/);
    } finally {
      await server.close();
    }
  });

  test("curl: a POST body over the limit is 413, sent after 100-continue is refused", async () => {
    const server = await startServer({ backend, protocol: "http", routes: ROUTES, maxBodySize: 1000 });
    try {
      const r = await curl(["--write-out", "%{http_code}", "--data-binary", "x".repeat(5000),
        `http://127.0.0.1:${server.address()!.port}/`]);
      assert.ok(r.stdout.endsWith("413"), r.stdout);
    } finally {
      await server.close();
    }
  });

  test("node:http: a 5 MB upload over the limit gets its 413, with no reset while it is still sending", async () => {
    const server = await startServer({ backend, protocol: "http", maxBodySize: 1000 });
    try {
      for (let i = 0; i < 5; i++) {
        const status = await new Promise<number>((resolve, reject) => {
          const req = http.request({ host: "127.0.0.1", port: server.address()!.port, method: "POST", path: "/",
            headers: { "Content-Length": 5_000_000 } }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode!));
          });
          req.on("error", reject);
          req.end(Buffer.alloc(5_000_000));
        });
        assert.is(status, 413);
      }
    } finally {
      await server.close();
    }
  });

  test("fetch: the default route, and a Date within a second or two of now", async () => {
    const server = await startServer({ backend, protocol: "http" });
    try {
      const res = await fetch(`http://127.0.0.1:${server.address()!.port}/`);
      assert.is(res.status, 200);
      assert.is(await res.text(), "Hello from wasm-reactor\n");
      const date = Date.parse(res.headers.get("date")!);
      assert.ok(Math.abs(date - Date.now()) < 2500, res.headers.get("date")!);
      assert.is(res.headers.get("date"), new Date(date).toUTCString());
    } finally {
      await server.close();
    }
  });

  test("node:http: 200 requests over 4 kept-alive sockets", async () => {
    const server = await startServer({ backend, protocol: "http", routes: ROUTES });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    try {
      const one = () => new Promise<string>((resolve, reject) => {
        const req = http.get({ host: "127.0.0.1", port: server.address()!.port, path: "/", agent }, (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (d) => (body += d));
          res.on("end", () => resolve(body));
        });
        req.on("error", reject);
      });
      const bodies = await Promise.all(Array.from({ length: 200 }, one));
      assert.ok(bodies.every((b) => b === "hello\n"));
      assert.is(server.stats().accepted, 4); // every request after the first four reused a connection
    } finally {
      agent.destroy();
      await server.close();
    }
  });

  test("50,000 pipelined requests to a client that reads only at the end are all answered, in order", async () => {
    const server = await startServer({ backend, protocol: "http", routes: { "/": "hello\n" } });
    try {
      const socket = await connect(server.address()!.port);
      socket.pause(); // let the server's sends come up short and its output back up
      const requests = Array.from({ length: 50_000 }, (_, i) => `GET /?n=${i} HTTP/1.1\r\nHost: t\r\n\r\n`).join("");
      socket.write(requests);
      await sleep(300);
      const one = (await fetch(`http://127.0.0.1:${server.address()!.port}/`)).status; // others are served meanwhile
      assert.is(one, 200);
      const reply = receiveAll(socket);
      socket.resume();
      await sleep(50);
      socket.end();
      const text = (await reply).toString("latin1");
      const bodies = text.split(/HTTP\/1\.1 200 OK\r\n/).slice(1);
      assert.is(bodies.length, 50_000);
      assert.ok(bodies.every((r) => r.endsWith("\r\n\r\nhello\n")));
    } finally {
      await server.close();
    }
  });

  test("slowloris: a head trickling in a byte at a time is cut off at the header timeout; others are served", async () => {
    const server = await startServer({ backend, protocol: "http", routes: ROUTES, headersTimeout: 300 });
    const port = server.address()!.port;
    try {
      const slow = await connect(port);
      slow.on("error", () => {}); // the trickle may hit the closed socket
      const reply = receiveAll(slow);
      const started = Date.now();
      const trickle = setInterval(() => slow.writable && slow.write("x"), 40);
      slow.write("GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ");
      const res = await fetch(`http://127.0.0.1:${port}/`);
      assert.is(await res.text(), "hello\n");
      const got = (await reply).toString("latin1");
      clearInterval(trickle);
      const took = Date.now() - started;
      assert.match(got, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assert.ok(took >= 250 && took < 2000, `closed after ${took} ms`);
    } finally {
      await server.close();
    }
  });

  test.run();
}

// A timer may fire a moment before the clock the module reads says its deadline has come
// (timers and clocks round differently). The host must then wait the rest, not give up.
const skew = suite("timeouts survive a timer that fires early");
skew("net host: a module clock running slower than the timers still gets the 408", async () => {
  const { NetHost } = await import("../host/net.js");
  const { realClock } = await import("../host/door.js");
  const { httpConfig, resolveOptions } = await import("../src/options.js");
  const options = resolveOptions({ protocol: "http", headersTimeout: 100 });
  // Timers measure from the loop's cached time and fire "early" by the module's clock; a
  // clock at 90 % speed makes every timer early, every time.
  const start = realClock.nowMs();
  const late = { nowMs: () => Math.floor(start + (realClock.nowMs() - start) * 0.9), unixSeconds: realClock.unixSeconds };
  const host = new NetHost({ protocol: "http", eventCapacity: 64, arenaHalfBytes: 64 * 1024, maxLineLength: 1024,
    http: httpConfig(options, false) }, () => {}, undefined, undefined, late);
  const port = await host.listen({ host: "127.0.0.1", port: 0, backlog: 0, reusePort: false, ipv6Only: false });
  host.start();
  try {
    const socket = await connect(port);
    const reply = receiveAll(socket, 3000);
    socket.write("GET / HTTP/1.1\r\nHost: t\r\n");
    assert.match((await reply).toString("latin1"), /^HTTP\/1\.1 408 /);
  } finally {
    await host.close(1000);
  }
});
skew.run();
