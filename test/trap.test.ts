// A trap inside the module must not take the process down. With isolateTraps (the
// default) it costs only the connection whose input caused it (test/isolation.test.ts
// has the many-clients scenario); without, the host closes the connections that
// instance owned, starts a fresh instance and keeps accepting.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TRAP_MAGIC } from "../host/module.js";
import { createServer, type TrapInfo } from "../src/index.js";
import { simulateModule } from "../src/testing.js";
import { fixtureModule } from "./fixture-modules.js";
import { BACKENDS, closed, connect, echoRoundTrip, HOST, startServer, waitFor } from "./helpers.js";

const hog = fixtureModule("hog");

for (const backend of BACKENDS) {
  test(`with isolateTraps: false, a trap on the ${backend} host restarts the instance: its connections close, new ones are served`, async () => {
    const victim = await startServer({ backend, protocol: "echo", trapOnMagic: true, isolateTraps: false });
    const bystander = await startServer({ backend, protocol: "line" });
    const traps: Error[] = [];
    const infos: TrapInfo[] = [];
    victim.on("trap", (err, info) => {
      traps.push(err);
      infos.push(info);
    });
    const port = victim.address()!.port;

    const other = await connect(bystander.address()!.port);
    const sameInstance = await connect(port);
    assert.is((await echoRoundTrip(sameInstance, Buffer.from("before"))).toString(), "before");
    const attacker = await connect(port);
    const attackerClosed = closed(attacker);
    const sameClosed = closed(sameInstance);
    attacker.write(TRAP_MAGIC);

    await attackerClosed;
    await sameClosed; // its state died with the instance
    await waitFor(() => traps.length === 1, 5000, "the trap event");
    assert.match(traps[0].message, "trap requested by input");
    assert.is(victim.stats().traps, 1);
    assert.is(infos[0].connection, undefined, "not isolated");

    const fresh = await connect(port);
    assert.is((await echoRoundTrip(fresh, Buffer.from("after"))).toString(), "after");
    assert.is((await echoRoundTrip(other, Buffer.from("unaffected\n"))).toString(), "unaffected\n");
    fresh.destroy();
    other.destroy();
    await victim.close();
    await bystander.close();
  });
}

for (const backend of BACKENDS) {
  test(`a module growing past maxMemory traps with that reason on the ${backend} host, and the server goes on`, async () => {
    const cap = 16 * 1024 * 1024;
    const server = await startServer({ backend, module: hog, maxMemory: cap });
    const traps: Error[] = [];
    server.on("trap", (err: Error) => traps.push(err));
    try {
      assert.is(server.stats().moduleMemoryLimitBytes, cap);
      const port = server.address()!.port;
      const hungry = await connect(port);
      const hungryClosed = closed(hungry);
      hungry.write("hog");
      await hungryClosed;
      await waitFor(() => traps.length === 1, 5000, "the trap event");
      assert.match(traps[0].message, "memory cap reached");
      assert.ok(server.stats().moduleMemoryBytes <= cap, `${server.stats().moduleMemoryBytes} bytes`);
      const fresh = await connect(port);
      assert.is((await echoRoundTrip(fresh, Buffer.from("still here"))).toString(), "still here");
      fresh.destroy();
    } finally {
      await server.close();
    }
  });
}

test("the memory cap traps on the simulator too; a cap below what a module needs to start is refused at listen", async () => {
  const net = simulateModule({ module: hog, options: { maxMemory: 16 * 1024 * 1024 } });
  const small = net.connect().write("small");
  net.run();
  const hungry = net.connect().write("hog");
  net.run();
  assert.equal(net.traps.map((t) => t.error.message.includes("memory cap reached")), [true]);
  assert.ok(hungry.closed, "the hungry connection is closed");
  small.write(" and more");
  net.run();
  assert.is(small.text(), "small and more", "the other connection goes on");
  const strict = simulateModule({ module: hog, options: { maxMemory: 16 * 1024 * 1024, isolateTraps: false } });
  strict.connect().write("hog");
  assert.throws(() => strict.run(), /memory cap reached/);
  const tooSmall = createServer({ protocol: "echo", host: HOST, port: 0, maxMemory: 1024 * 1024 });
  const refusal = await tooSmall.listen().then(() => undefined, (err: Error) => err);
  assert.match(String(refusal), /maxMemory \(1048576 bytes\) is below what echo\.wasm needs to start/);
});

test("without the fault-injection option the magic is just bytes", async () => {
  const server = await startServer({ protocol: "echo" });
  const socket = await connect(server.address()!.port);
  assert.is((await echoRoundTrip(socket, Buffer.from(TRAP_MAGIC))).toString(), TRAP_MAGIC);
  assert.is(server.stats().traps, 0);
  socket.destroy();
  await server.close();
});

test.run();
