import { test } from "uvu";
import * as assert from "uvu/assert";
import net from "node:net";
import { readFileSync } from "node:fs";
import { createServer } from "../src/index.js";
import { connect, echoRoundTrip, HOST, startServer } from "./helpers.js";

test("20 ports at once all serve (the C1000K layout)", async () => {
  // 20 consecutive free ports, looked for below the kernel's ephemeral range: inside it,
  // the TIME_WAIT client sockets earlier test files leave behind block listeners.
  const [ephemeralLow] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
  let server;
  for (let attempt = 0; attempt < 20 && !server; attempt++) {
    const base = 10000 + Math.floor(Math.random() * (ephemeralLow - 10000 - 20));
    server = await startServer({ port: base, ports: 20 }).catch(() => undefined);
  }
  assert.ok(server, "could not find 20 consecutive free ports");
  const ports = server.addresses().map((a) => a.port);
  assert.equal(ports, Array.from({ length: 20 }, (_, i) => ports[0] + i));
  await Promise.all(ports.map(async (port) => {
    const socket = await connect(port);
    const msg = Buffer.from(`port ${port}`);
    assert.ok((await echoRoundTrip(socket, msg)).equals(msg));
    socket.destroy();
  }));
  assert.is(server.stats().accepted, 20);
  await server.close();
});

test("ports: N with port 0 binds N distinct ephemeral ports", async () => {
  const server = await startServer({ ports: 3 });
  const ports = server.addresses().map((a) => a.port);
  assert.is(new Set(ports).size, 3);
  await server.close();
});

test("a busy port is a clear EADDRINUSE error, and nothing stays bound", async () => {
  const first = await startServer({});
  const port = first.address()!.port;
  const second = createServer({ host: HOST, port });
  const emitted: Error[] = [];
  second.on("error", (err) => emitted.push(err));
  try {
    await second.listen();
    assert.unreachable("listen on a busy port succeeded");
  } catch (err) {
    const e = err as Error & { code?: string; port?: number };
    assert.is(e.code, "EADDRINUSE");
    assert.is(e.port, port);
    assert.match(e.message, `address already in use 127.0.0.1:${port}`);
  }
  assert.is(second.address(), null);
  assert.is((emitted[0] as Error & { code?: string })?.code, "EADDRINUSE", "'error' is emitted too");
  await first.close();
});

test("IPv6 loopback works, and '::' accepts IPv4 too", async () => {
  const v6 = await createServer({ host: "::1", port: 0 }).listen();
  assert.is(v6.address()!.family, "IPv6");
  const socket = net.connect({ host: "::1", port: v6.address()!.port });
  await new Promise((r) => socket.once("connect", r));
  assert.ok((await echoRoundTrip(socket, Buffer.from("v6"))).equals(Buffer.from("v6")));
  socket.destroy();
  await v6.close();

  const dual = await createServer({ port: 0 }).listen();
  assert.is(dual.address()!.address, "::");
  const v4 = await connect(dual.address()!.port);
  assert.ok((await echoRoundTrip(v4, Buffer.from("v4"))).equals(Buffer.from("v4")));
  v4.destroy();
  await dual.close();
});

test("two servers in one process are independent", async () => {
  const echo = await startServer({ protocol: "echo" });
  const line = await startServer({ protocol: "line" });
  const a = await connect(echo.address()!.port);
  const b = await connect(line.address()!.port);
  assert.is((await echoRoundTrip(a, Buffer.from("no newline"))).toString(), "no newline");
  assert.is((await echoRoundTrip(b, Buffer.from("with newline\n"))).toString(), "with newline\n");
  a.destroy();
  await echo.close();
  assert.is((await echoRoundTrip(b, Buffer.from("still\n"))).toString(), "still\n");
  b.destroy();
  await line.close();
});

test("reusePort: two servers bind the same port and the kernel spreads connections over both (docs/SCALING.md)", async () => {
  const a = await createServer({ protocol: "echo", host: HOST, port: 0, reusePort: true }).listen();
  const b = await createServer({ protocol: "echo", host: HOST, port: a.address()!.port, reusePort: true }).listen();
  try {
    const sockets = await Promise.all(Array.from({ length: 64 }, () => connect(a.address()!.port)));
    for (const s of sockets) assert.equal(await echoRoundTrip(s, Buffer.from("hi")), Buffer.from("hi"));
    assert.ok(a.stats().accepted > 0 && b.stats().accepted > 0, `accepted ${a.stats().accepted} and ${b.stats().accepted}`);
    assert.is(a.stats().accepted + b.stats().accepted, 64);
    for (const s of sockets) s.destroy();
  } finally {
    await a.close();
    await b.close();
  }
});

test("bad options are rejected with a clear message", () => {
  assert.throws(() => createServer({ protocol: "smtp" as "echo" }), /unknown protocol "smtp"/);
  assert.throws(() => createServer({ port: 70000 }), /port must be an integer from 0 to 65535/);
  assert.throws(() => createServer({ port: 65530, ports: 20 }), /run past 65535/);
});

test.run();
