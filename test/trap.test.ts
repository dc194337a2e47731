// A trap inside the module must not take the process down: the host closes the
// connections that instance owned, starts a fresh instance and keeps accepting.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TRAP_MAGIC } from "../host/module.js";
import { BACKENDS, closed, connect, echoRoundTrip, startServer, waitFor } from "./helpers.js";

for (const backend of BACKENDS) {
  test(`a trap on the ${backend} host is contained: its connections close, new ones are served, others unaffected`, async () => {
    const victim = await startServer({ backend, protocol: "echo", trapOnMagic: true });
    const bystander = await startServer({ backend, protocol: "line" });
    const traps: Error[] = [];
    victim.on("trap", (err: Error) => traps.push(err));
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

    const fresh = await connect(port);
    assert.is((await echoRoundTrip(fresh, Buffer.from("after"))).toString(), "after");
    assert.is((await echoRoundTrip(other, Buffer.from("unaffected\n"))).toString(), "unaffected\n");
    fresh.destroy();
    other.destroy();
    await victim.close();
    await bystander.close();
  });
}

test("without the fault-injection option the magic is just bytes", async () => {
  const server = await startServer({ protocol: "echo" });
  const socket = await connect(server.address()!.port);
  assert.is((await echoRoundTrip(socket, Buffer.from(TRAP_MAGIC))).toString(), TRAP_MAGIC);
  assert.is(server.stats().traps, 0);
  socket.destroy();
  await server.close();
});

test.run();
