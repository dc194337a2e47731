// wasm-reactor's echo, from the built package, as a user would start it.
import { createServer } from "../../dist/src/index.js";

const server = await createServer({ protocol: "echo", host: "127.0.0.1", port: Number(process.argv[2] ?? 0),
  isolateTraps: process.env.WASM_REACTOR_BENCH_ISOLATE_TRAPS !== "0", backend: process.env.WASM_REACTOR_BENCH_BACKEND || undefined }).listen();
console.log(`listening ${server.address().port}`);
process.on("SIGTERM", async () => {
  await server.close();
  process.exit(0);
});
