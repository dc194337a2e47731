// docs/scaling/nginx.conf, run by a real nginx on loopback in front of two wasm-reactor
// processes that relay publishes through a real redis-server: plain HTTP is spread over
// both backends, WebSocket upgrades are proxied, and a publish made through one backend
// reaches subscribers on both.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sleep, waitFor } from "./helpers.js";
import { withServing } from "./processes.js";
import { topicClient } from "./ws-clients.js";
import { channelSubscribers, freePort, requireRedisTools, startRedis, stopRedis } from "./redis-server.js";

requireRedisTools(["redis-cli", "redis-server"]);
if (!["/usr/sbin", "/usr/bin"].some((dir) => existsSync(`${dir}/nginx`))) {
  throw new Error("nginx is not installed: apt-get install nginx (.ci/run does this)");
}
const SERVER = ["--import", "tsx", "test/fixtures/servers/pubsub-server.ts"];

/** nginx running the documented config, with its upstream and listen ports replaced; stopped by the returned function. */
async function startNginx(backends: number[], port: number): Promise<() => Promise<void>> {
  const dir = mkdtempSync(path.join(tmpdir(), "wr-nginx-"));
  let conf = readFileSync("docs/scaling/nginx.conf", "utf8");
  assert.match(conf, /server 127\.0\.0\.1:9001;[\s\S]*server 127\.0\.0\.1:9002;/, "the documented upstream");
  conf = conf.replace("127.0.0.1:9001", `127.0.0.1:${backends[0]}`).replace("127.0.0.1:9002", `127.0.0.1:${backends[1]}`)
    .replace("listen 8080;", `listen 127.0.0.1:${port};`);
  writeFileSync(path.join(dir, "nginx.conf"), conf);
  const child: ChildProcess = spawn("nginx", ["-p", dir, "-c", path.join(dir, "nginx.conf"),
    "-g", `daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;`], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false)) break;
    await sleep(50);
  }
  return async () => {
    const gone = new Promise((r) => child.once("exit", r));
    child.kill("SIGQUIT");
    await gone;
    rmSync(dir, { recursive: true, force: true });
  };
}

test("nginx (docs/scaling/nginx.conf) spreads HTTP over two processes and proxies WebSockets; publishes reach both through Redis", async () => {
  const redis = await startRedis();
  try {
    await withServing(process.execPath, [...SERVER, String(redis.port), "wr-nginx:"], (a) =>
      withServing(process.execPath, [...SERVER, String(redis.port), "wr-nginx:"], async (b) => {
        const port = await freePort();
        const stop = await startNginx([a.port, b.port], port);
        try {
          const answers = new Set<string>();
          for (let i = 0; i < 8; i++) {
            const res = await fetch(`http://127.0.0.1:${port}/whoami`);
            assert.is(res.status, 200);
            answers.add(await res.text());
          }
          assert.equal([...answers].sort(), [`backend ${a.port}`, `backend ${b.port}`].sort(), "both backends answered");
          const clients = await Promise.all(Array.from({ length: 6 }, () => topicClient(port, "lobby")));
          // Both backends have subscribers: each subscribes to the topic's channel in Redis.
          for (let i = 0; i < 100 && (await channelSubscribers(redis.port, "wr-nginx:lobby")) !== 2; i++) await sleep(20);
          assert.is(await channelSubscribers(redis.port, "wr-nginx:lobby"), 2, "subscribers on both backends");
          for (let i = 0; i < 50; i++) clients[0].ws.send(`m${i}`);
          const expected = Array.from({ length: 50 }, (_, i) => `m${i}`);
          await waitFor(() => clients.every((c) => c.got.length >= expected.length), 10_000, "every subscriber, on either backend");
          for (const c of clients) assert.equal(c.got, expected);
          for (const c of clients) c.ws.close();
        } finally {
          await stop();
        }
      }));
  } finally {
    await stopRedis(redis);
  }
});

test.run();
