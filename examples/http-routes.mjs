// HTTP answered entirely inside WebAssembly: static routes, no JavaScript on the request path.
// Run: node examples/http-routes.mjs, then: curl -i http://127.0.0.1:8080/health
import { createServer } from "wasm-reactor";

const server = await createServer({
  protocol: "http",
  port: Number(process.env.PORT ?? 8080),
  routes: {
    "/": "hello\n",
    "/health": { status: 200, headers: { "Content-Type": "application/json" }, body: '{"ok":true}' },
  },
}).listen();
console.log(`http-routes: listening on port ${server.address().port}`);
process.once("SIGINT", () => server.close());
