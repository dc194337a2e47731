// HTTP with a JavaScript request handler, shaped like node:http: the module parses and
// frames; JavaScript decides the answer. /health stays inside WebAssembly.
// Run: node examples/http-handler.mjs, then: curl -d '{"name":"Ada"}' http://127.0.0.1:8080/greet
import { createServer } from "wasm-reactor";

const server = createServer({ routes: { "/health": "ok\n" } }, async (req, res) => {
  if (req.method === "POST" && req.url === "/greet") {
    const { name } = await req.json();
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ greeting: `hello, ${name}` }));
    return;
  }
  res.statusCode = 404;
  res.end("not found\n");
});
server.on("requestError", (err) => console.error("handler failed:", err.message)); // the client got a 500

await server.listen(Number(process.env.PORT ?? 8080));
console.log(`http-handler: listening on port ${server.address().port}`);
process.once("SIGINT", () => server.close());
