// Reactor + worker pool: the reactor parses requests and writes answers; the request handler
// (./handler.mjs) runs on two worker threads, so a slow or CPU-heavy request never holds the
// reactor or the other clients.
// Run: node examples/worker-pool/server.mjs, then: curl http://127.0.0.1:8080/fib/30
import { createServer } from "wasm-reactor";

const server = await createServer({
  protocol: "http",
  port: Number(process.env.PORT ?? 8080),
  workers: 2,
  handler: new URL("./handler.mjs", import.meta.url).href,
}).listen();
console.log(`worker-pool: listening on port ${server.address().port}, 2 workers`);
process.once("SIGINT", () => server.close());
