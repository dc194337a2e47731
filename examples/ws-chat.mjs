// A chat room with WebSocket messages handled in JavaScript (an API shaped like the ws
// package): every message goes to everyone, framed once in the module by broadcast().
// Run: node examples/ws-chat.mjs, then open two WebSocket clients on ws://127.0.0.1:9001/chat
import { createServer } from "wasm-reactor";

const server = createServer({ protocol: "ws", port: Number(process.env.PORT ?? 9001), path: "/chat" });
let next = 1;
server.on("connection", (ws) => {
  const name = `guest${next++}`;
  ws.send(`welcome, ${name}`);
  ws.on("message", (data, isBinary) => {
    if (!isBinary) server.broadcast(`${name}: ${data.toString()}`);
  });
  ws.on("close", () => server.broadcast(`${name} left`));
});
await server.listen();
console.log(`ws-chat: listening on port ${server.address().port}`);
process.once("SIGINT", () => server.close());
