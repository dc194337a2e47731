// wasm-reactor's HTTP server as a user would start it: `route` answers GET / inside the
// module (no JS on the path), `js` answers every request from a JS request handler.
import { createServer } from "../../dist/src/index.js";

const [port, mode] = [Number(process.argv[2] ?? 0), process.argv[3] ?? "route"];
const BODY = "Hello, World!";
const server = createServer({ protocol: "http", host: "127.0.0.1", port, isolateTraps: process.env.WASM_REACTOR_BENCH_ISOLATE_TRAPS !== "0", backend: process.env.WASM_REACTOR_BENCH_BACKEND || undefined,
  routes: mode === "route" ? { "/": { headers: { "Content-Type": "text/plain" }, body: BODY } } : {} });
if (mode === "js") {
  server.on("request", (req, res) => {
    res.setHeader("Content-Type", "text/plain");
    res.end(BODY);
  });
}
await server.listen();
console.log(`listening ${server.address().port}`);
process.on("SIGTERM", async () => {
  await server.close();
  process.exit(0);
});
