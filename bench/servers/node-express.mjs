// The Express "hello" app of wasm-express.mjs on node:http, its usual home.
import http from "node:http";
import { helloApp } from "./express-app.mjs";

const server = http.createServer(helloApp());
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
process.on("SIGTERM", () => process.exit(0));
