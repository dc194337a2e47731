// The streaming peers: each request's body is hashed (SHA-256) as it streams in, and the
// digest is the answer. `wasm` serves it on wasm-reactor, `node` on node:http; the
// handler is the same function.
import { createHash } from "node:crypto";
import http from "node:http";
import { createServer } from "../../dist/src/index.js";

async function hashBody(req, res) {
  const hash = createHash("sha256");
  for await (const chunk of req) hash.update(chunk);
  res.end(hash.digest("hex"));
}

const [port, kind] = [Number(process.argv[2] ?? 0), process.argv[3] ?? "wasm"];
if (kind === "node") {
  const server = http.createServer(hashBody);
  server.listen(port, "127.0.0.1", () => console.log(`listening ${server.address().port}`));
  process.on("SIGTERM", () => process.exit(0));
} else {
  const server = createServer({ host: "127.0.0.1", port, routes: {}, isolateTraps: process.env.WASM_REACTOR_BENCH_ISOLATE_TRAPS !== "0" }, hashBody);
  await server.listen();
  console.log(`listening ${server.address().port}`);
  process.on("SIGTERM", async () => {
    await server.close();
    process.exit(0);
  });
}
