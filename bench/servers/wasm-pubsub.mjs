// wasm-reactor pub/sub: every WebSocket subscribes to "feed", and a message from any
// client is published to "feed": framed once in the module and sent to every subscriber
// (the sender too) by the module, with no JavaScript per subscriber. With a Redis URL
// (the third argument), publishes are relayed through it to the other servers too.
import { createServer } from "../../dist/src/index.js";

const redis = process.argv[3];
const server = createServer({ protocol: "ws", host: "127.0.0.1", port: Number(process.argv[2] ?? 0),
  pubsub: redis ? { redis } : undefined });
server.on("connection", (ws) => {
  ws.subscribe("feed");
  ws.on("message", (data, isBinary) => server.publish("feed", data, { binary: isBinary }));
});
await server.listen();
console.log(`listening ${server.address().port}`);
process.on("SIGTERM", async () => {
  await server.close();
  process.exit(0);
});
