// A CPU-heavy request handler for the worker-pool bench: about 1 ms of hashing per request.
import { createHash } from "node:crypto";

export default function handler(req, res) {
  let digest = Buffer.from(req.url);
  for (let i = 0; i < 400; i++) digest = createHash("sha256").update(digest).digest();
  res.setHeader("Content-Type", "text/plain");
  res.end(digest.toString("hex").slice(0, 13));
}
