// An Express 5 app, unchanged, on wasm-reactor: the module parses and frames HTTP,
// Express routes. Uploads stream through req (hashed here as they arrive, never held
// whole), downloads through res with backpressure.
// Run: npm install express, then node examples/express.mjs, then:
//   curl 127.0.0.1:8080/users/42?sort=desc
//   curl --data-binary @some-big-file 127.0.0.1:8080/upload
import { createHash } from "node:crypto";
import express from "express";
import { createServer } from "wasm-reactor";

const app = express();
app.use(express.json());
app.get("/users/:id", (req, res) => res.json({ id: req.params.id, sort: req.query.sort, from: req.ip }));
app.post("/notes", (req, res) => res.status(201).json({ saved: req.body }));
app.post("/upload", async (req, res) => {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of req) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  res.json({ bytes, sha256: hash.digest("hex") });
});

const server = createServer(app);
server.on("requestError", (err) => console.error("handler failed:", err.message));
await server.listen(Number(process.env.PORT ?? 8080));
console.log(`express: listening on port ${server.address().port}`);
process.once("SIGINT", () => server.close());
