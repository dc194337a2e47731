// wasm-reactor's WebSocket with a JS handler echoing every message (the module frames it).
import { createServer } from "../../dist/src/index.js";

const server = createServer({ protocol: "ws", host: "127.0.0.1", port: Number(process.argv[2] ?? 0) });
server.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
await server.listen();
console.log(`listening ${server.address().port}`);
process.on("SIGTERM", async () => {
  await server.close();
  process.exit(0);
});
