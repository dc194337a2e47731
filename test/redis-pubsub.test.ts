// Pub/sub across processes through a real redis-server (pubsub: { redis }): two server
// processes, subscribers and publishers on both; every subscriber gets every message
// exactly once, each publisher's in order; a server subscribes in Redis only to topics it
// has subscribers for; Redis stopped and restarted mid-test: local delivery goes on, the
// servers say so once and reconnect, and publishes cross servers again.
import { test } from "uvu";
import * as assert from "uvu/assert";
import net from "node:net";
import { createServer } from "../src/index.js";
import { HOST, sleep, waitFor } from "./helpers.js";
import { withServing, type Serving } from "./processes.js";
import { topicClient } from "./ws-clients.js";
import { channelSubscribers, freePort, requireRedisTools, startRedis, stopRedis } from "./redis-server.js";

requireRedisTools(["redis-cli", "redis-server"]);
const PREFIX = "wr-test:";
const SERVER = ["--import", "tsx", "test/fixtures/servers/pubsub-server.ts"];

/** How many servers subscribe to the topic's channel in Redis. */
const redisSubscribers = (redisPort: number, topic: string) => channelSubscribers(redisPort, PREFIX + topic);

async function twoServers(redisPort: number, body: (a: Serving, b: Serving) => Promise<void>): Promise<void> {
  await withServing(process.execPath, [...SERVER, String(redisPort), PREFIX], (a) =>
    withServing(process.execPath, [...SERVER, String(redisPort), PREFIX], (b) => body(a, b)));
}

test("two processes: every subscriber gets every message once, each publisher's in order; Redis channels only for topics with subscribers", async () => {
  const redis = await startRedis();
  try {
    await twoServers(redis.port, async (a, b) => {
      const onA = await Promise.all([topicClient(a.port, "room"), topicClient(a.port, "room"), topicClient(a.port, "room")]);
      const onB = await Promise.all([topicClient(b.port, "room"), topicClient(b.port, "room"), topicClient(b.port, "room")]);
      for (let i = 0; i < 100 && (await redisSubscribers(redis.port, "room")) !== 2; i++) await sleep(20);
      assert.is(await redisSubscribers(redis.port, "room"), 2, "both servers subscribe in Redis");
      assert.is(await redisSubscribers(redis.port, "elsewhere"), 0);
      const N = 300;
      for (let i = 0; i < N; i++) {
        onA[0].ws.send(`a${i}`); // publishers are subscribers too: they hear their own messages
        onB[0].ws.send(`b${i}`);
      }
      const everyone = [...onA, ...onB];
      await waitFor(() => everyone.every((c) => c.got.length >= 2 * N), 20_000, "every message everywhere");
      await sleep(100);
      for (const [i, c] of everyone.entries()) {
        assert.is(c.got.length, 2 * N, `subscriber ${i}: exactly once`);
        assert.equal(c.got.filter((m) => m[0] === "a"), Array.from({ length: N }, (_, k) => `a${k}`), `subscriber ${i}: a's order`);
        assert.equal(c.got.filter((m) => m[0] === "b"), Array.from({ length: N }, (_, k) => `b${k}`), `subscriber ${i}: b's order`);
      }
      // A topic with a subscriber on A only: one Redis subscriber, none once it leaves.
      const solo = await topicClient(a.port, "solo");
      for (let i = 0; i < 100 && (await redisSubscribers(redis.port, "solo")) !== 1; i++) await sleep(20);
      assert.is(await redisSubscribers(redis.port, "solo"), 1);
      solo.ws.close();
      for (let i = 0; i < 100 && (await redisSubscribers(redis.port, "solo")) !== 0; i++) await sleep(20);
      assert.is(await redisSubscribers(redis.port, "solo"), 0, "unsubscribed in Redis with its last subscriber");
      for (const c of everyone) c.ws.terminate();
    });
  } finally {
    await stopRedis(redis);
  }
});

test("Redis stopped and restarted: local delivery goes on, each server says so once, then publishes cross servers again", async () => {
  let redis = await startRedis();
  try {
    await twoServers(redis.port, async (a, b) => {
      const [pubA, subA] = [await topicClient(a.port, "news"), await topicClient(a.port, "news")];
      const subB = await topicClient(b.port, "news");
      for (let i = 0; i < 100 && (await redisSubscribers(redis.port, "news")) !== 2; i++) await sleep(20);
      pubA.ws.send("before");
      await waitFor(() => subB.got.includes("before") && subA.got.includes("before"), 5000, "before the outage");
      await stopRedis(redis);
      await waitFor(() => /pubsub down/.test(a.stderr()) && /pubsub down/.test(b.stderr()), 10_000, "both servers notice");
      pubA.ws.send("during");
      await waitFor(() => subA.got.includes("during"), 5000, "local delivery without Redis");
      await sleep(300);
      assert.not.ok(subB.got.includes("during"), "nothing crossed while Redis was down");
      redis = await startRedis(redis.port);
      await waitFor(() => /pubsub up/.test(a.stderr()) && /pubsub up/.test(b.stderr()), 15_000, "both servers reconnect");
      for (let i = 0; i < 100 && (await redisSubscribers(redis.port, "news")) !== 2; i++) await sleep(20);
      assert.is(await redisSubscribers(redis.port, "news"), 2, "subscribed again in Redis");
      pubA.ws.send("after");
      await waitFor(() => subB.got.includes("after"), 5000, "after the outage");
      for (const s of [a, b]) assert.is(s.stderr().match(/pubsub down/g)?.length, 1, "said once per outage");
      for (const c of [pubA, subA, subB]) c.ws.terminate();
    });
  } finally {
    await stopRedis(redis);
  }
});

test("pubsub is checked at createServer, and a server without Redis still serves its own subscribers", async () => {
  assert.throws(() => createServer({ protocol: "ws", pubsub: { redis: "http://x" } }), /redis:\/\/ or rediss:\/\/ URL/);
  assert.throws(() => createServer({ protocol: "http", pubsub: { redis: "redis://x" } }), /pubsub applies to protocol ws/);
  const downs: string[] = [];
  const unreachable = `redis://127.0.0.1:${(await startRedis().then(async (r) => { await stopRedis(r); return r.port; }))}`;
  const server = createServer({ protocol: "ws", host: HOST, port: 0, pubsub: { redis: unreachable } });
  server.on("pubsubDown", (err) => downs.push(err.message));
  server.on("connection", (ws) => ws.subscribe("t"));
  await server.listen();
  try {
    const c = await topicClient(server.address()!.port, "t");
    await waitFor(() => server.subscriberCount("t") === 1, 5000, "subscribed");
    server.publish("t", "local only");
    await waitFor(() => c.got.length === 1, 5000, "delivered");
    assert.is(downs.length, 1);
    c.ws.close();
  } finally {
    await server.close();
  }
});

test("a relay that cannot start fails listen() and leaves nothing listening", async () => {
  const port = await freePort();
  const server = createServer({ protocol: "ws", host: HOST, port, pubsub: { redis: "redis://127.0.0.1:notaport" } });
  const err = await server.listen().then(() => undefined, (e: Error) => e);
  assert.instance(err, Error);
  assert.not.ok(server.listening);
  const refused = await new Promise<boolean>((resolve) => {
    const s = net.connect(port, HOST);
    s.once("connect", () => resolve(false)).once("error", () => resolve(true));
  });
  assert.ok(refused, "the port must not be served after a failed listen()");
});

test.run();
