// The soak's clients: each workload loops until the deadline over real sockets and
// checks every byte it gets back; what went wrong is counted by workload. Misbehaving
// clients (resets, malformed input, a poisoned line) check only that the server
// refused them the way it should, and must not disturb the others.
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import net from "node:net";
import WebSocket from "ws";

const HOST = "127.0.0.1";
const TRAP_MAGIC = "wasm-reactor:trap!";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Connects, writes, and collects until `done(bytes)` says so, or the server closes (resolves { data, closed }). */
function converse(port, write, done, timeoutMs = 15_000) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, HOST);
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms (${data.length} bytes so far)`)), timeoutMs);
    const finish = (err, closed = false) => {
      clearTimeout(timer);
      s.destroy();
      if (err) reject(err);
      else resolve({ data, closed });
    };
    s.on("connect", () => write(s));
    s.on("data", (d) => {
      data = Buffer.concat([data, d]);
      if (done(data)) finish(undefined, false);
    });
    s.on("close", () => finish(undefined, true));
    s.on("error", (err) => finish(err));
  });
}

function post(port, path, body) {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: HOST, port, path, method: "POST", agent: false, headers: { "content-length": body.length } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    r.on("error", reject);
    r.end(body);
  });
}

/** The workloads, by name: each `async (ports, check)` runs one round; `check(ok, what)` counts a verdict. */
export const WORKLOADS = {
  async pipelined(ports, check) {
    const n = 10;
    const req = Array.from({ length: n }, (_, i) => `GET ${i % 2 ? "/hello" : `/json/${i}`} HTTP/1.1\r\nHost: soak\r\n\r\n`).join("");
    const { data } = await converse(ports.web, (s) => s.write(req), (d) => (d.toString("latin1").match(/HTTP\/1\.1 200 /g) ?? []).length >= n);
    const text = data.toString("latin1");
    check((text.match(/HTTP\/1\.1 200 /g) ?? []).length === n && text.includes("hello\n") && text.includes('"url":"/json/8"'), "pipelined replies");
  },
  async upload(ports, check) {
    const body = randomBytes(256 * 1024 + Math.floor(Math.random() * 1024 * 1024));
    const r = await post(ports.web, "/echo", body);
    check(r.status === 200 && r.body.equals(body) && r.headers["x-sha256"] === createHash("sha256").update(body).digest("hex"), "upload echoed whole");
  },
  async slowReader(ports, check) {
    const mib = 4;
    const want = mib << 20;
    let body = 0;
    let wrong = false;
    await new Promise((resolve, reject) => {
      http.get({ host: HOST, port: ports.web, path: `/download/${mib}`, agent: false }, (res) => {
        res.on("data", (c) => {
          for (let k = 0; k < c.length; k += 4093) if (c[k] !== ((body + k) >> 20 & 0xff)) wrong = true;
          body += c.length;
          res.pause();
          setTimeout(() => res.resume(), 5); // a slow reader
        });
        res.on("end", resolve);
        res.on("error", reject);
      }).on("error", reject);
    });
    check(body === want && !wrong, "slow download whole");
  },
  async reset(ports, check) {
    const s = net.connect(ports.web, HOST);
    s.on("error", () => {});
    await new Promise((r) => s.once("connect", r));
    s.write(`POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: 1048576\r\n\r\n${"r".repeat(100_000)}`);
    await sleep(20);
    s.resetAndDestroy();
    check(true, "reset");
  },
  async malformed(ports, check) {
    const { data, closed } = await converse(ports.web, (s) => s.write("GET / HTTP/1.1\r\nHost: soak\r\nBad Header\r\n\r\n"), () => false);
    check(/^HTTP\/1\.1 400 /.test(data.toString("latin1")) && closed, "malformed refused with 400");
  },
  async idle(ports, check) {
    const started = Date.now();
    const { data, closed } = await converse(ports.web, (s) => s.write("GET /hello HTTP/1.1\r\nHost: soak\r\n\r\n"), () => false, 10_000);
    check(closed && data.toString("latin1").endsWith("hello\n") && Date.now() - started >= 1500, "idle closed at keepAliveTimeout");
  },
  async webSocket(ports, check) {
    for (const port of [ports.web, ports.wsEcho]) {
      const ws = new WebSocket(`ws://${HOST}:${port}/`);
      await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
      const messages = [randomBytes(100), randomBytes(70_000), "text ✓"];
      const got = [];
      const all = new Promise((resolve) => ws.on("message", (d, binary) => { got.push(binary ? d : d.toString()); if (got.length === messages.length) resolve(); }));
      for (const m of messages) ws.send(m);
      await all;
      check(got.every((g, i) => (typeof g === "string" ? g === messages[i] : Buffer.compare(g, messages[i]) === 0)), "WebSocket echo");
      ws.close(1000);
    }
  },
  async echo(ports, check) {
    const payload = randomBytes(1 + Math.floor(Math.random() * 200_000));
    const { data } = await converse(ports.echo, (s) => s.write(payload), (d) => d.length >= payload.length);
    check(data.equals(payload), "echo whole");
  },
  async line(ports, check) {
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i} ${"x".repeat(i * 10)}\n`).join("");
    const { data } = await converse(ports.line, (s) => s.write(lines), (d) => d.length >= lines.length);
    check(data.toString() === lines, "lines echoed");
  },
  async poison(ports, check) {
    // Every round of this one: a poisoned line traps the module; only its connection closes.
    const { closed } = await converse(ports.line, (s) => s.write(`${TRAP_MAGIC}\n`), () => false);
    check(closed, "poisoned connection closed");
    await sleep(4000);
  },
};

/** Runs every workload in a loop until `until` (ms since epoch); resolves with counts by workload. */
export async function runClients(ports, until) {
  const results = {};
  await Promise.all(Object.entries(WORKLOADS).map(async ([name, round]) => {
    const r = (results[name] = { rounds: 0, wrong: [] });
    const check = (ok, what) => {
      if (!ok && r.wrong.length < 5) r.wrong.push(what);
      if (!ok) r.failed = (r.failed ?? 0) + 1;
    };
    while (Date.now() < until) {
      try {
        await round(ports, check);
      } catch (err) {
        if (r.wrong.length < 5) r.wrong.push(String(err?.message ?? err));
        r.failed = (r.failed ?? 0) + 1;
      }
      r.rounds++;
    }
  }));
  return results;
}
