// Express 5 and Fastify 5, unchanged, on wasm-reactor: `server.on("request", app)` for
// Express, Fastify through its serverFactory; checked with fetch and the node:http agent
// on both socket hosts.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import express from "express";
import Fastify from "fastify";
import { createServer, type Server } from "../src/server.js";
import { BACKENDS, HOST } from "./helpers.js";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** POSTs `body` with the node:http agent, streaming it in 1 MiB writes; resolves with the answer's text. */
function upload(port: number, path: string, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const r = request({ host: HOST, port, method: "POST", path, headers: { "content-length": body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString() }));
    });
    r.on("error", reject);
    Readable.from((function* () {
      for (let at = 0; at < body.length; at += 1 << 20) yield body.subarray(at, at + (1 << 20));
    })()).pipe(r);
  });
}

function expressApp(staticDir: string) {
  const app = express();
  app.use(express.json());
  app.use(express.urlencoded({ extended: false }));
  app.use("/files", express.static(staticDir));
  app.get("/users/:id", (req, res) => {
    res.json({ id: req.params.id, sort: req.query.sort, ip: req.ip, protocol: req.protocol });
  });
  app.post("/json", (req, res) => res.status(201).json({ got: req.body }));
  app.post("/form", (req, res) => res.json({ got: req.body }));
  app.post("/upload", async (req, res) => {
    const hash = createHash("sha256");
    let bytes = 0;
    for await (const chunk of req) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    res.json({ bytes, sha256: hash.digest("hex") });
  });
  app.get("/download/:mib", async (req, res) => {
    const mib = Number(req.params.mib);
    res.set("Content-Type", "application/octet-stream");
    await pipeline(Readable.from((function* () {
      for (let i = 0; i < mib; i++) yield Buffer.alloc(1 << 20, i);
    })()), res);
  });
  app.get("/boom", () => {
    throw new Error("boom on purpose");
  });
  app.get("/later", async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    throw Object.assign(new Error("teapot on purpose"), { status: 418 });
  });
  app.use((err: Error & { status?: number }, req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    res.status(err.status ?? 500).json({ error: err.message });
  });
  return app;
}

for (const backend of BACKENDS) {
  const test = suite(`Express 5 on the ${backend} host`);
  let server: Server;
  let base = "";
  let dir = "";
  const file = randomBytes(300_000);

  test.before(async () => {
    dir = mkdtempSync(join(tmpdir(), "wr-express-"));
    writeFileSync(join(dir, "blob.bin"), file);
    writeFileSync(join(dir, "hello.txt"), "hello from a file\n");
    server = createServer({ backend, host: HOST, port: 0 }, expressApp(dir));
    await server.listen();
    base = `http://${HOST}:${server.address()!.port}`;
  });
  test.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("routing with params and query; req.ip and req.protocol from req.socket", async () => {
    const r = await fetch(`${base}/users/42?sort=desc`);
    assert.is(r.status, 200);
    assert.match(r.headers.get("content-type")!, /^application\/json/);
    assert.equal(await r.json(), { id: "42", sort: "desc", ip: "127.0.0.1", protocol: "http" });
  });

  test("JSON and urlencoded bodies through express.json() and express.urlencoded()", async () => {
    const j = await fetch(`${base}/json`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ a: [1, 2] }) });
    assert.is(j.status, 201);
    assert.equal(await j.json(), { got: { a: [1, 2] } });
    const f = await fetch(`${base}/form`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "x=1&y=two" });
    assert.equal(await f.json(), { got: { x: "1", y: "two" } });
    const bad = await fetch(`${base}/json`, { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" });
    assert.is(bad.status, 400); // body-parser's error, through the error middleware
  });

  test("express.static serves files whole (and a missing one falls through to the 404)", async () => {
    const r = await fetch(`${base}/files/blob.bin`);
    assert.is(r.status, 200);
    assert.is(sha256(Buffer.from(await r.arrayBuffer())), sha256(file));
    const t = await fetch(`${base}/files/hello.txt`);
    assert.match(t.headers.get("content-type")!, /^text\/plain/);
    assert.is(await t.text(), "hello from a file\n");
    const missing = await fetch(`${base}/files/none.txt`);
    assert.is(missing.status, 404);
    assert.match(await missing.text(), /Cannot GET \/files\/none\.txt/);
  });

  test("error middleware answers a sync throw and an async rejection; the server keeps serving", async () => {
    const boom = await fetch(`${base}/boom`);
    assert.is(boom.status, 500);
    assert.equal(await boom.json(), { error: "boom on purpose" });
    const later = await fetch(`${base}/later`);
    assert.is(later.status, 418);
    assert.is((await fetch(`${base}/users/1`)).status, 200);
  });

  test("a 24 MiB streamed upload is hashed as it arrives; module memory stays small", async () => {
    const body = randomBytes(24 << 20);
    const r = await upload(server.address()!.port, "/upload", body);
    assert.is(r.status, 200);
    assert.equal(JSON.parse(r.text), { bytes: body.length, sha256: sha256(body) });
    assert.ok(server.stats().moduleMemoryBytes < 48 << 20, `module memory ${server.stats().moduleMemoryBytes}`);
  });

  test("a 32 MiB streamed download through pipeline(source, res) arrives whole", async () => {
    const r = await fetch(`${base}/download/32`);
    const got = Buffer.from(await r.arrayBuffer());
    const want = Buffer.concat(Array.from({ length: 32 }, (_, i) => Buffer.alloc(1 << 20, i)));
    assert.is(got.length, want.length);
    assert.is(sha256(got), sha256(want));
    assert.ok(server.stats().moduleMemoryBytes < 48 << 20, `module memory ${server.stats().moduleMemoryBytes}`);
  });

  test.run();
}

for (const backend of BACKENDS) {
  const test = suite(`Fastify 5 on the ${backend} host (serverFactory)`);

  test("routes, query, a JSON body, req.ip, 404 and a thrown error, then close()", async () => {
    let server: Server | undefined;
    const app = Fastify({
      serverFactory: (handler) => {
        server = createServer({ backend }, handler);
        return server as never;
      },
    });
    app.get("/users/:id", async (req) => ({ id: (req.params as { id: string }).id, q: req.query, ip: req.ip }));
    app.post("/echo", async (req) => ({ body: req.body }));
    app.get("/boom", async () => {
      throw new Error("fastify boom");
    });
    await app.listen({ port: 0, host: HOST });
    const base = `http://${HOST}:${server!.address()!.port}`;
    try {
      assert.equal(await (await fetch(`${base}/users/7?x=1`)).json(), { id: "7", q: { x: "1" }, ip: "127.0.0.1" });
      const echo = await fetch(`${base}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ n: 5 }) });
      assert.is(echo.status, 200);
      assert.equal(await echo.json(), { body: { n: 5 } });
      const missing = await fetch(`${base}/nope`);
      assert.is(missing.status, 404);
      const boom = await fetch(`${base}/boom`);
      assert.is(boom.status, 500);
      assert.is(((await boom.json()) as { message: string }).message, "fastify boom");
    } finally {
      await app.close();
    }
    assert.is(server!.listening, false);
  });

  test.run();
}
