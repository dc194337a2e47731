// The soak's server process: every protocol at once, as an application would run them —
// http and WebSocket in JS (protocol "ws": in-module routes, a streaming request
// listener, JS WebSockets), ws-echo, echo and line (the line server with fault injection
// on, so a poisoned input traps the module and costs one connection). It answers the
// parent's "sample" messages with its RSS, module memory, open fds and event-loop delay.
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createServer } from "../../dist/src/index.js";

const host = "127.0.0.1";
const base = { host, port: 0, closeTimeout: 2000 };
const http = { ...base, keepAliveTimeout: 2000, headersTimeout: 3000 };

const web = createServer({ ...http, protocol: "ws", routes: { "/hello": "hello\n" } });
web.on("request", async (req, res) => {
  if (req.url === "/echo") {
    // A streamed echo of any size: the body back, and its hash in a trailer-free header first.
    const hash = createHash("sha256");
    const chunks = [];
    for await (const chunk of req) {
      hash.update(chunk);
      chunks.push(chunk);
    }
    res.setHeader("X-Sha256", hash.digest("hex"));
    res.end(Buffer.concat(chunks));
  } else if (req.url.startsWith("/download/")) {
    const mib = Number(req.url.slice("/download/".length));
    res.setHeader("Content-Length", mib << 20);
    let i = 0;
    const more = () => {
      while (i < mib) if (!res.write(Buffer.alloc(1 << 20, i++ & 0xff))) return void res.once("drain", more);
      res.end();
    };
    more();
  } else {
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ url: req.url, from: req.socket?.remoteAddress }));
  }
});
web.on("connection", (ws) => ws.on("message", (data, binary) => ws.send(binary ? data : data.toString(), { binary })));
web.on("requestError", () => {}); // clients reset mid-request on purpose

const servers = {
  web,
  wsEcho: createServer({ ...http, protocol: "ws-echo" }),
  echo: createServer({ ...base, protocol: "echo", idleTimeout: 10_000 }),
  line: createServer({ ...base, protocol: "line", trapOnMagic: true, idleTimeout: 10_000 }),
};
let traps = 0;
for (const s of Object.values(servers)) s.on("trap", () => traps++);
await Promise.all(Object.values(servers).map((s) => s.listen()));

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();

process.on("message", (m) => {
  if (m === "sample") {
    const modules = Object.values(servers).map((s) => s.stats());
    process.send({
      rssBytes: process.memoryUsage().rss,
      moduleMemoryBytes: modules.reduce((n, s) => n + s.moduleMemoryBytes, 0),
      moduleMemoryInUseBytes: modules.reduce((n, s) => n + s.moduleMemoryInUseBytes, 0),
      connections: modules.reduce((n, s) => n + s.connections, 0),
      fds: readdirSync("/proc/self/fd").length,
      loopDelayP99Ms: delay.percentile(99) / 1e6,
      traps,
    });
    delay.reset();
  } else if (m === "stop") {
    Promise.all(Object.values(servers).map((s) => s.close())).then(() => process.exit(0));
  }
});
process.send({ ports: Object.fromEntries(Object.entries(servers).map(([k, s]) => [k, s.address().port])) });
