// wasm-reactor HTTP for the scaling rows: `threads N` (in-module route on N sub-reactors)
// or `workers N` (the CPU-heavy handler of cpu-handler.mjs on N worker threads).
import { fileURLToPath } from "node:url";
import { createServer } from "../../dist/src/index.js";

const [port, model, count] = [Number(process.argv[2] ?? 0), process.argv[3], Number(process.argv[4] ?? 1)];
const options = model === "workers"
  ? { workers: count, handler: fileURLToPath(new URL("./cpu-handler.mjs", import.meta.url)) }
  : { threads: count, routes: { "/": { headers: { "Content-Type": "text/plain" }, body: "Hello, World!" } } };
const server = await createServer({ protocol: "http", host: "127.0.0.1", port, ...options }).listen();
console.log(`listening ${server.address().port}`);
process.on("SIGTERM", async () => {
  await server.close();
  process.exit(0);
});
