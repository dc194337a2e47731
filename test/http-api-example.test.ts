// examples/http-api: a JSON API in AssemblyScript on the SDK's HTTP level, built from
// source and called with fetch, on the native and the node:net host.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer } from "../src/index.js";
import { buildModule } from "./fixture-modules.js";
import { HOST } from "./helpers.js";

const api = buildModule("examples/http-api/handler.ts", "http-api");

for (const backend of ["native", "net"] as const) {
  test(`fetch creates, reads and deletes notes by id, with JSON errors, on the ${backend} host`, async () => {
    const server = await createServer({ module: api, backend, host: HOST, port: 0 }).listen();
    const url = `http://${HOST}:${server.address()!.port}`;
    try {
      const created = await fetch(`${url}/notes`, { method: "POST", body: 'a "quoted" note\n' });
      assert.is(created.status, 201);
      assert.is(created.headers.get("content-type"), "application/json");
      const { id } = await created.json() as { id: number };
      assert.is(created.headers.get("location"), `/notes/${id}`);
      assert.equal(await (await fetch(`${url}/notes/${id}`)).json(), { id, text: 'a "quoted" note\n' });
      assert.is((await fetch(`${url}/notes/${id}`, { method: "DELETE" })).status, 200);
      const gone = await fetch(`${url}/notes/${id}`);
      assert.is(gone.status, 404);
      assert.equal(await gone.json(), { error: "no such note" });
      assert.is((await fetch(`${url}/notes/not-a-number`)).status, 404);
      assert.is((await fetch(`${url}/notes`, { method: "POST", body: "" })).status, 400);
      assert.is((await fetch(`${url}/health`, { method: "PUT" })).status, 405);
      assert.is(await (await fetch(`${url}/health`)).text(), "ok\n");
    } finally {
      await server.close();
    }
  });
}

test.run();
