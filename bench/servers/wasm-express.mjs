// The same Express "hello" app as node-express.mjs, mounted on wasm-reactor the way a
// user would: server.on("request", app).
import { createServer } from "../../dist/src/index.js";
import { helloApp } from "./express-app.mjs";

const server = createServer({ protocol: "http", host: "127.0.0.1", port: Number(process.argv[2] ?? 0), routes: {} });
server.on("request", helloApp());
await server.listen();
console.log(`listening ${server.address().port}`);
process.on("SIGTERM", async () => {
  await server.close();
  process.exit(0);
});
