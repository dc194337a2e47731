// WebSocket echo inside WebAssembly: upgrade, framing, masking, UTF-8 checks, ping/pong and
// the close handshake, and the echo itself, with no JavaScript per message.
// Run: node examples/ws-echo.mjs, then connect a WebSocket client to ws://127.0.0.1:9001/
import { createServer } from "wasm-reactor";

const server = await createServer({ protocol: "ws-echo", port: Number(process.env.PORT ?? 9001), maxPayload: 1 << 20 }).listen();
console.log(`ws-echo: listening on port ${server.address().port}`);
process.once("SIGINT", () => server.close());
