// examples/ws-rooms: chat rooms in AssemblyScript on the SDK's WebSocket level, built
// from source, with real `ws` clients on the native and the node:net host, and on the
// test kit's simulator under every fault.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { once } from "node:events";
import WebSocket from "ws";
import { createServer } from "../src/index.js";
import { simulateModule, webSocketFrame, webSocketMessages, webSocketUpgrade } from "../src/testing.js";
import { buildModule } from "./fixture-modules.js";
import { HOST, sleep } from "./helpers.js";

const rooms = buildModule("examples/ws-rooms/handler.ts", "ws-rooms");

/** A client that keeps what it receives, and can wait for the next message. */
async function client(port: number) {
  const ws = new WebSocket(`ws://${HOST}:${port}/`);
  const inbox: string[] = [];
  const waiting: ((m: string) => void)[] = [];
  ws.on("message", (data) => {
    const text = String(data);
    const waiter = waiting.shift();
    if (waiter) waiter(text);
    else inbox.push(text);
  });
  await once(ws, "open");
  const next = () => inbox.length > 0 ? Promise.resolve(inbox.shift()!) : new Promise<string>((r) => waiting.push(r));
  return { ws, inbox, next, say: async (text: string) => { ws.send(text); } };
}

for (const backend of ["native", "net"] as const) {
  test(`a room's members get what one says, other rooms do not, on the ${backend} host`, async () => {
    const server = await createServer({ module: rooms, backend, host: HOST, port: 0 }).listen();
    const port = server.address()!.port;
    try {
      const [a, b, c] = await Promise.all([client(port), client(port), client(port)]);
      for (const [who, room] of [[a, "lobby"], [b, "lobby"], [c, "other"]] as const) {
        await who.say(`join ${room}`);
        assert.is(await who.next(), `joined ${room}`);
      }
      await a.say("say hello all");
      const heardByA = await a.next();
      assert.match(heardByA, /^\[lobby\] #\d+: hello all$/);
      assert.is(await b.next(), heardByA);
      await b.say("leave");
      assert.is(await b.next(), "left");
      await a.say("say anyone?");
      assert.match(await a.next(), /: anyone\?$/);
      await c.say("say in other");
      assert.match(await c.next(), /^\[other\] #\d+: in other$/);
      a.ws.send(Buffer.from([1, 2, 3]));
      assert.match(await a.next(), "text commands only");
      await sleep(50);
      assert.equal([a.inbox, b.inbox, c.inbox], [[], [], []], "nobody heard anything else");
      // A member that goes away leaves its room: the rest still hear each other.
      a.ws.close();
      await once(a.ws, "close");
      await b.say("join other");
      assert.is(await b.next(), "joined other");
      await c.say("say welcome");
      const heard = await c.next();
      assert.is(await b.next(), heard);
      for (const who of [b, c]) who.ws.close();
    } finally {
      await server.close();
    }
  });
}

for (const seed of [1, 2, 3]) {
  test(`on the simulator (wasm-reactor/testing), seed ${seed}: a room hears its members whatever the network does`, () => {
    const net = simulateModule({ module: rooms, seed, faults: "all" });
    const [a, b, c] = [0, 1, 2].map(() => net.connect().write(webSocketUpgrade("/")));
    a.write(webSocketFrame("join lobby"));
    b.write(webSocketFrame("join lobby"));
    c.write(webSocketFrame("join other"));
    net.run();
    a.write(webSocketFrame("say hello all"));
    net.run();
    const texts = (client: typeof a) => webSocketMessages(client.received()).map((m) => m.text);
    assert.is(texts(a).length, 2, `seed ${seed}: ${texts(a)}`);
    assert.is(texts(a)[0], "joined lobby");
    assert.match(texts(a)[1], /^\[lobby\] #\d+: hello all$/);
    assert.equal(texts(b), texts(a), `seed ${seed}: b heard what a heard`);
    assert.equal(texts(c), ["joined other"], `seed ${seed}: another room heard nothing`);
  });
}

test.run();
