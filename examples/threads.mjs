// Main–sub reactors: two worker threads, each its own epoll instance and module instance,
// sharing the port with SO_REUSEPORT; the kernel spreads connections between them.
// With accept: "handoff" the main thread accepts instead and hands connections out in turn.
// Run: node examples/threads.mjs [handoff], then: curl http://127.0.0.1:8080/
import { createServer } from "wasm-reactor";

const accept = process.argv[2] === "handoff" ? "handoff" : "reuseport";
const server = await createServer({ protocol: "http", port: Number(process.env.PORT ?? 8080), threads: 2, accept }).listen();
console.log(`threads: listening on port ${server.address().port}, 2 sub-reactors (${accept})`);
process.once("SIGINT", async () => {
  console.log(server.threadStats().map((s, i) => `thread ${i}: ${s.accepted} connections`).join("\n"));
  await server.close();
});
