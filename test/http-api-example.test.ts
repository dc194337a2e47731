// examples/http-api: a JSON API in AssemblyScript on the SDK's HTTP level, built from
// source and called with fetch, on the native and the node:net host, and on the test
// kit's simulator under every fault.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer } from "../src/index.js";
import { simulateModule } from "../src/testing.js";
import { buildModule } from "./fixture-modules.js";
import { HOST } from "./helpers.js";

const api = buildModule("examples/http-api/handler.ts", "http-api");

for (const backend of ["native", "net"] as const) {
  test(`fetch creates, reads and deletes notes by id, with JSON errors, on the ${backend} host`, async () => {
    const users: Record<string, object> = { ada: { name: "Ada Lovelace", born: 1815 } };
    const server = await createServer({ module: api, backend, host: HOST, port: 0, calls: {
      user: async (name) => (users[name.toString()] ? JSON.stringify(users[name.toString()]) : ""),
    } }).listen();
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
      // A host call: the module asks JS, and answers when JS has.
      assert.equal(await (await fetch(`${url}/users/ada`)).json(), { name: "Ada Lovelace", born: 1815 });
      const nobody = await fetch(`${url}/users/nobody`);
      assert.is(nobody.status, 404);
      assert.equal(await nobody.json(), { error: "no such user" });
    } finally {
      await server.close();
    }
  });
}

for (const seed of [1, 2, 3]) {
  test(`on the simulator (wasm-reactor/testing), seed ${seed}: pipelined requests cut and glued anyhow are answered in order`, () => {
    const net = simulateModule({ module: api, seed, faults: "all" });
    const client = net.connect().write("POST /notes HTTP/1.1\r\nHost: sim\r\nContent-Length: 9\r\n\r\nfirst one"
      + "GET /notes/1 HTTP/1.1\r\nHost: sim\r\n\r\nDELETE /notes/1 HTTP/1.1\r\nHost: sim\r\n\r\n"
      + "GET /notes/1 HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n");
    net.run();
    const statuses = [...client.text().matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    assert.equal(statuses, [201, 200, 200, 404], `seed ${seed}`);
    assert.match(client.text(), '{"id":1,"text":"first one"}');
    assert.ok(client.closed, "Connection: close closes");
  });
}

test("on the simulator: a request waiting for a host call holds back the ones pipelined behind it, in order", async () => {
  const net = simulateModule({ module: api, seed: 4, faults: "all", options: { calls: {
    user: async (name) => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return name.toString() === "ada" ? '{"name":"Ada"}' : "";
    },
  } } });
  const client = net.connect().write("GET /users/ada HTTP/1.1\r\nHost: sim\r\n\r\nGET /health HTTP/1.1\r\nHost: sim\r\n\r\n"
    + "GET /users/bob HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n");
  await net.settle();
  const statuses = [...client.text().matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
  assert.equal(statuses, [200, 200, 404]);
  assert.ok(client.text().indexOf('{"name":"Ada"}') < client.text().indexOf("ok\n"), "in request order");
  assert.ok(client.closed);
});

test.run();
