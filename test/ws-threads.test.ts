// JS WebSocket handlers (protocol "ws") with threads: each sub-reactor posts its module's
// outbox to the main thread, where the handlers run; sends go back to the thread that owns
// the connection; publishes and broadcasts reach every thread. Native host, both ways of
// sharing the port.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import WebSocket from "ws";
import { waitFor } from "./helpers.js";
import { open, withServer } from "./ws-clients.js";

for (const accept of ["reuseport", "handoff"] as const) {
  const test = suite(`JS WebSockets on 2 sub-reactors (accept: ${accept})`);

  test("messages, the upgrade's socket, publish (with and without the sender), broadcast and close on both threads", async () => {
    const closes: number[] = [];
    await withServer({ threads: 2, accept }, (ws, req) => {
      ws.subscribe("all");
      ws.on("message", (d: Buffer) => {
        if (String(d) === "to the others") ws.publish("all", `others from ${req.socket?.remotePort}`);
        else ws.send(`echo ${d} from ${req.socket?.remotePort}`);
      });
      ws.on("close", (code) => closes.push(code));
    }, async (port, server) => {
      const clients: WebSocket[] = [];
      for (let i = 0; i < 16; i++) clients.push(await open(port));
      const got: string[][] = clients.map(() => []);
      clients.forEach((c, i) => c.on("message", (d) => got[i].push(String(d))));
      await waitFor(() => server.subscriberCount("all") === 16, 5000, "every subscription");
      // Each thread publishes its counters every 20 ms: wait until they have caught up.
      const accepted = () => server.threadStats().map((s) => s.accepted);
      await waitFor(() => accepted().reduce((a, b) => a + b, 0) === 16, 5000, "every thread's counters");
      assert.ok(accepted().every((n) => n > 0), `connections on both threads: ${accepted()}`);
      clients.forEach((c, i) => c.send(`hi${i}`));
      await waitFor(() => got.every((g) => g.length === 1), 5000, "echoes");
      clients.forEach((c, i) => assert.is(got[i][0], `echo hi${i} from ${(c as unknown as { _socket: { localPort: number } })._socket.localPort}`));
      server.publish("all", "published");
      server.broadcast("broadcast");
      await waitFor(() => got.every((g) => g.length === 3), 5000, "publish and broadcast everywhere");
      clients[0].send("to the others");
      await waitFor(() => got.slice(1).every((g) => g.length === 4), 5000, "the others");
      assert.is(got[0].length, 3, "not the sender");
      assert.is(server.clients.size, 16);
      clients[3].close(4003, "bye");
      await waitFor(() => closes.includes(4003), 5000, "the close code");
      for (const c of clients) c.terminate();
      await waitFor(() => server.clients.size === 0 && server.subscriberCount("all") === 0, 5000, "all gone");
    });
  });

  test("verifyClient decides upgrades on every thread", async () => {
    await withServer({ threads: 2, accept, verifyClient: ({ req }) => req.url === "/yes" }, (ws) => ws.send("in"), async (port, server) => {
      const refused = await Promise.all(Array.from({ length: 6 }, () => open(port, "/no").then(() => "open", () => "refused")));
      assert.equal(refused, Array(6).fill("refused"));
      const accepted = await Promise.all(Array.from({ length: 6 }, () => open(port, "/yes")));
      await waitFor(() => server.clients.size === 6, 5000, "six accepted");
      for (const c of accepted) c.terminate();
    });
  });

  test.run();
}
