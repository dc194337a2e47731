// Echo: every byte back, in order, answered inside WebAssembly (no JavaScript per message).
// Run: node examples/echo.mjs, then: nc 127.0.0.1 2000
import { createServer } from "wasm-reactor";

const server = await createServer({ protocol: "echo", port: Number(process.env.PORT ?? 2000) }).listen();
console.log(`echo: listening on port ${server.address().port} (${server.backend} host)`);
process.once("SIGINT", () => server.close());
