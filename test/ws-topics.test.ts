// Pub/sub topics in the module: ws.subscribe()/unsubscribe()/isSubscribed(),
// server.publish() and ws.publish() framed once and sent to each subscriber, in order and
// exactly once; slow subscribers meet the backpressure policy; the SDK's subscribe and
// publish in a module of your own. The ws package's client, on both socket hosts.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import WebSocket from "ws";
import { createServer } from "../src/index.js";
import type { WebSocket as ServerSocket } from "../src/websocket.js";
import { fixtureModule } from "./fixture-modules.js";
import { BACKENDS, connect, HOST, prng, receive, sleep, waitFor } from "./helpers.js";
import { closeOf, inbox, open, withServer } from "./ws-clients.js";
import { clientFrame, serverFrame, SWITCHING, upgrade } from "./ws-scenarios.js";

/** A server whose clients say "sub <topic>" / "unsub <topic>" to (un)subscribe, and anything else to publish it to "room" (skipping themselves). */
const subscribeOnRequest = (ws: ServerSocket) => ws.on("message", (d: Buffer) => {
  const [command, topic] = String(d).split(" ");
  if (command === "sub") ws.subscribe(topic);
  else if (command === "unsub") ws.unsubscribe(topic);
  else ws.publish("room", d);
});

for (const backend of BACKENDS) {
  const test = suite(`pub/sub topics on the ${backend} host`);

  test("publish reaches a topic's subscribers only; unsubscribe and close end it; counts and isSubscribed agree", async () => {
    const sockets: ServerSocket[] = [];
    await withServer({ backend }, (ws) => {
      sockets.push(ws);
      subscribeOnRequest(ws);
    }, async (port, server) => {
      const [a, b, c] = [await open(port), await open(port), await open(port)];
      const [ia, ib, ic] = [inbox(a), inbox(b), inbox(c)];
      a.send("sub news");
      b.send("sub news");
      c.send("sub sports");
      await waitFor(() => server.subscriberCount("news") === 2 && server.subscriberCount("sports") === 1, 5000, "subscriptions");
      assert.ok(sockets[0].isSubscribed("news"));
      assert.not.ok(sockets[0].isSubscribed("sports"));
      assert.equal(sockets[2].getTopics(), ["sports"]);
      server.publish("news", "headline 1");
      server.publish("sports", "score 1");
      server.publish("nobody listens", "lost");
      server.publish("news", Buffer.from([1, 2, 3]), { binary: true });
      await waitFor(() => ia.length === 2 && ib.length === 2 && ic.length === 1, 5000, "deliveries");
      assert.equal(ia[0], "headline 1");
      assert.equal(ib[0], "headline 1");
      assert.equal(ic, ["score 1"]);
      a.send("unsub news");
      await waitFor(() => server.subscriberCount("news") === 1, 5000, "unsubscribe");
      server.publish("news", "headline 2");
      await waitFor(() => ib.length === 3, 5000, "b hears headline 2");
      await sleep(50);
      assert.is(ia.length, 2, "a unsubscribed");
      const closed = closeOf(sockets[1]);
      b.close();
      await closed;
      assert.is(server.subscriberCount("news"), 0);
      server.publish("news", "to nobody");
      server.publish("sports", "score 2");
      await waitFor(() => ic.length === 2, 5000, "c still subscribed");
      assert.equal(ic, ["score 1", "score 2"]);
      a.close();
      c.close();
    });
  });

  test("any order of subscribes, unsubscribes and closes: a publish reaches exactly the subscribers a model says", async () => {
    const random = prng(7);
    await withServer({ backend }, subscribeOnRequest, async (port, server) => {
      const clients = await Promise.all(Array.from({ length: 12 }, () => open(port)));
      const topics = ["t0", "t1", "t2", "t3"];
      const model = clients.map(() => new Set<string>());
      const live = clients.map(() => true);
      for (let step = 0; step < 300; step++) {
        const i = Math.floor(random() * clients.length);
        if (!live[i]) continue;
        const topic = topics[Math.floor(random() * topics.length)];
        const r = random();
        if (r < 0.03) {
          live[i] = false;
          model[i].clear();
          clients[i].terminate();
        } else if (r < 0.55) {
          model[i].add(topic);
          clients[i].send(`sub ${topic}`);
        } else {
          model[i].delete(topic);
          clients[i].send(`unsub ${topic}`);
        }
      }
      const expectCount = (t: string) => model.filter((m) => m.has(t)).length;
      await waitFor(() => topics.every((t) => server.subscriberCount(t) === expectCount(t)), 10_000, "the model's subscriptions");
      const boxes = clients.map(inbox);
      for (const t of topics) server.publish(t, t);
      await sleep(300);
      clients.forEach((c, i) => {
        if (live[i]) assert.equal([...boxes[i]].sort(), [...model[i]].sort(), `client ${i}`);
      });
      for (const c of clients) c.terminate();
    });
  });

  test("topic names: a string of well-formed Unicode, at most 16 KiB; others are refused before anything is sent", async () => {
    const sockets: ServerSocket[] = [];
    await withServer({ backend }, (ws) => sockets.push(ws), async (port, server) => {
      const c = await open(port);
      await waitFor(() => sockets.length === 1, 5000, "the connection");
      assert.throws(() => sockets[0].subscribe("\uD800"), /well-formed Unicode/);
      assert.throws(() => server.publish("x\uDC00", "m"), /well-formed Unicode/);
      assert.throws(() => sockets[0].subscribe("t".repeat(16 * 1024 + 1)), /at most 16384 bytes/);
      sockets[0].subscribe("😀 ok");
      assert.ok(sockets[0].isSubscribed("😀 ok"));
      c.close();
    });
  });

  test("ws.publish reaches the others in the topic, not the sender", async () => {
    await withServer({ backend }, subscribeOnRequest, async (port, server) => {
      const clients = [await open(port), await open(port), await open(port)];
      const boxes = clients.map(inbox);
      for (const c of clients) c.send("sub room");
      await waitFor(() => server.subscriberCount("room") === 3, 5000, "subscriptions");
      clients[0].send("hello from 0");
      await waitFor(() => boxes[1].length === 1 && boxes[2].length === 1, 5000, "the others");
      await sleep(50);
      assert.equal(boxes, [[], ["hello from 0"], ["hello from 0"]]);
      for (const c of clients) c.close();
    });
  });

  test("2,000 publishes to 50 subscribers arrive exactly once each, in order, in slices when the batch is small", async () => {
    await withServer({ backend, eventCapacity: 16 }, subscribeOnRequest, async (port, server) => {
      const clients = await Promise.all(Array.from({ length: 50 }, () => open(port)));
      const boxes = clients.map(inbox);
      for (const c of clients) c.send("sub feed");
      await waitFor(() => server.subscriberCount("feed") === 50, 10_000, "subscriptions");
      const sent = Array.from({ length: 2000 }, (_, i) => `m${i}`);
      for (const m of sent) server.publish("feed", m);
      await waitFor(() => boxes.every((b) => b.length >= sent.length), 20_000, "every message everywhere");
      await sleep(50);
      for (const b of boxes) assert.equal(b, sent);
      for (const c of clients) c.terminate();
    });
  });

  test("a subscriber that stops reading is closed with 1008 past maxBufferedAmount; the others go on; memory stays bounded", async () => {
    const closes: number[] = [];
    await withServer({ backend, maxBufferedAmount: 1 << 20 }, (ws) => {
      ws.subscribe("firehose");
      ws.on("close", (code) => closes.push(code));
    }, async (port, server) => {
      const slow = await connect(port);
      slow.write(upgrade());
      await receive(slow, SWITCHING.length);
      slow.pause(); // never reads again
      const fast = await open(port);
      let got = 0;
      fast.on("message", () => got++);
      await waitFor(() => server.subscriberCount("firehose") === 2, 5000, "subscriptions");
      const chunk = Buffer.alloc(64 << 10, 1);
      for (let i = 0; i < 400; i++) {
        server.publish("firehose", chunk);
        if (i % 20 === 19) await sleep(5);
      }
      await waitFor(() => got === 400, 20_000, "the fast subscriber got all 400");
      await waitFor(() => closes.includes(1008), 5000, "the slow one closed with 1008");
      assert.ok(server.stats().moduleMemoryInUseBytes < 48 << 20, `module memory in use ${server.stats().moduleMemoryInUseBytes}`);
      slow.destroy();
      fast.close();
    });
  });

  test("a client flooding a room is not read while its publishes fan out: module memory stays bounded, everyone gets everything in order", async () => {
    await withServer({ backend, eventCapacity: 16, maxBufferedAmount: 256 << 10 }, (ws) => {
      ws.subscribe("room");
      ws.on("message", (d: Buffer) => ws.publish("room", d));
    }, async (port, server) => {
      // Raw subscribers that read as fast as the socket goes (a slow one would meet the 1008 rule instead).
      const received = await Promise.all(Array.from({ length: 20 }, async () => {
        const s = await connect(port);
        s.write(upgrade());
        await receive(s, SWITCHING.length);
        const chunks: Buffer[] = [];
        s.on("data", (d: Buffer) => chunks.push(d));
        return { s, chunks, bytes: () => chunks.reduce((n, c) => n + c.length, 0) };
      }));
      const flooder = await connect(port);
      flooder.write(upgrade());
      await receive(flooder, SWITCHING.length);
      await waitFor(() => server.subscriberCount("room") === 21, 5000, "subscriptions");
      const base = server.stats().moduleMemoryInUseBytes;
      let peak = base;
      const sampler = setInterval(() => (peak = Math.max(peak, server.stats().moduleMemoryInUseBytes)), 1);
      const N = 6000;
      const messages = Array.from({ length: N }, (_, i) => `m${i}`.padEnd(2048, "."));
      const frames = Buffer.concat(messages.map((m) => serverFrame(2, m))); // a Buffer is published as binary
      flooder.on("data", () => {}); // it subscribes too
      flooder.write(Buffer.concat(messages.map((m) => clientFrame(1, m))));
      try {
        await waitFor(() => received.every((r) => r.bytes() >= frames.length), 30_000, "every message to every subscriber");
      } finally {
        clearInterval(sampler);
      }
      await sleep(50);
      for (const r of received) {
        const got = Buffer.concat(r.chunks);
        let at = 0;
        while (at < Math.min(got.length, frames.length) && got[at] === frames[at]) at++;
        assert.ok(got.equals(frames), `every message once, in order: ${got.length} vs ${frames.length} bytes, first difference at ${at}: ${JSON.stringify(got.subarray(at, at + 12).toString("latin1"))}`);
      }
      // Bounded by the subscribers' unsent limit (21 × 256 KiB, in power-of-two blocks) and the
      // held queue, not by N: unbounded, the queue alone held N × (2 KiB + 21 × 8 B).
      assert.ok(peak - base < 24 * (1 << 20), `module memory in use grew by ${peak - base} bytes`);
      for (const r of received) r.s.destroy();
      flooder.destroy();
    });
  });

  test("onBackpressure \"drop\": a slow subscriber keeps its connection and misses what did not fit", async () => {
    await withServer({ backend, maxBufferedAmount: 1 << 20, onBackpressure: "drop" }, (ws) => ws.subscribe("firehose"), async (port, server) => {
      const slow = await connect(port);
      slow.write(upgrade());
      await receive(slow, SWITCHING.length);
      slow.pause();
      await waitFor(() => server.subscriberCount("firehose") === 1, 5000, "subscription");
      const chunk = Buffer.alloc(64 << 10, 1);
      for (let i = 0; i < 200; i++) server.publish("firehose", chunk);
      await sleep(300);
      assert.is(server.clients.size, 1, "still open");
      let bytes = 0;
      slow.on("data", (d) => (bytes += d.length));
      slow.resume();
      await sleep(300);
      assert.ok(bytes > 0 && bytes < 200 * chunk.length, `got ${bytes} bytes of ${200 * chunk.length}`);
      slow.destroy();
    });
  });

  test("a module of your own subscribes and publishes with the SDK; server.publish reaches its subscribers too", async () => {
    const server = createServer({ backend, host: HOST, port: 0, protocol: "module", module: fixtureModule("topics") });
    await server.listen();
    try {
      const port = server.address()!.port;
      const [a, b] = [await open(port), await open(port)];
      const [ia, ib] = [inbox(a), inbox(b)];
      a.send("sub lobby");
      b.send("sub lobby");
      b.send("is lobby");
      a.send("is elsewhere");
      await waitFor(() => ia.length === 1 && ib.length === 1, 5000, "answers");
      assert.equal([ia[0], ib[0]], ["no", "yes"]);
      a.send("pub lobby héllo everyone");
      await waitFor(() => ia.length === 2 && ib.length === 2, 5000, "the publish");
      assert.equal([ia[1], ib[1]], ["héllo everyone", "héllo everyone"]);
      b.send("unsub lobby");
      await sleep(50);
      server.publish("lobby", "from JS");
      await waitFor(() => ia.length === 3, 5000, "JS's publish");
      await sleep(50);
      assert.equal([ia[2], ib.length], ["from JS", 2]);
      a.close();
      b.close();
    } finally {
      await server.close();
    }
  });

  test.run();
}
