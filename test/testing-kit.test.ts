// wasm-reactor/testing: what a handler author's tests use. Virtual clients on a seeded,
// faulty virtual network with a virtual clock, against their module or a built-in
// protocol, and replay of a recorded trace against a new build.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createServer } from "../src/index.js";
import { replayAgainst, simulateModule } from "../src/testing.js";
import { fixtureModule } from "./fixture-modules.js";
import { connect, HOST, receive, receiveAll } from "./helpers.js";

const upper = fixtureModule("upper");

for (const seed of [1, 2, 3, 4, 5]) {
  test(`a module meets every fault on seed ${seed} and answers every client whole`, () => {
    const net = simulateModule({ module: upper, seed, faults: "all" });
    const clients = Array.from({ length: 20 }, (_, i) => {
      const client = net.connect();
      for (let k = 0; k < 10; k++) client.write(`client ${i} line ${k}; `);
      return client.end();
    });
    net.run();
    clients.forEach((client, i) => {
      const sent = Array.from({ length: 10 }, (_, k) => `client ${i} line ${k}; `).join("");
      assert.is(client.text(), `hello\n${sent.toUpperCase()}got ${sent.length} bytes\n`, `seed ${net.seed}, client ${i}`);
      assert.ok(client.closed, `seed ${net.seed}, client ${i} closed`);
    });
  });
}

test("virtual time: a built-in protocol's idle timeout fires when the clock is advanced, not before", () => {
  const net = simulateModule({ protocol: "line", options: { idleTimeout: 1000 } });
  const client = net.connect().write("still here\n");
  net.run();
  assert.is(client.text(), "still here\n");
  assert.not.ok(client.closed);
  net.advance(1500);
  assert.ok(client.closed);
});

test("replayAgainst replays a recorded session against the same build and names a difference", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "wr-kit-"));
  try {
    const trace = path.join(dir, "session.wrt");
    const server = await createServer({ module: upper, host: HOST, port: 0, record: trace }).listen();
    const socket = await connect(server.address()!.port);
    assert.is((await receive(socket, 6)).toString(), "hello\n");
    socket.end("recorded");
    assert.is((await receiveAll(socket)).toString(), "RECORDEDgot 8 bytes\n");
    await server.close();
    assert.is(replayAgainst(trace).divergence, undefined);
    const other = replayAgainst(trace, fixtureModule("shout"));
    assert.ok(other.divergence, "another module's answers differ");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
