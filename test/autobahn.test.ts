// A public conformance corpus, run on both socket hosts: the Autobahn WebSocket
// testsuite's cases (test/autobahn.ts, a hand port), against the module's echo
// (ws-echo) and against a JS 'message' handler that sends each message back (ws).
// Every case must come out OK, NON-STRICT or INFORMATIONAL, except the deviations
// test/autobahn.ts lists with their reasons, which must still fail (so a fix shows).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "../src/server.js";
import { AUTOBAHN_CASES, DEVIATIONS, play, tally, verdicts } from "./autobahn.js";
import { BACKENDS, HOST } from "./helpers.js";

const SERVERS: Record<string, (backend: (typeof BACKENDS)[number]) => Server> = {
  "ws-echo": (backend) => createServer({ backend, host: HOST, port: 0, protocol: "ws-echo" }),
  "a JS echo": (backend) => {
    const server = createServer({ backend, host: HOST, port: 0, protocol: "ws" });
    server.on("connection", (ws) => ws.on("message", (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary })));
    return server;
  },
};

for (const backend of BACKENDS) {
  const test = suite(`Autobahn's WebSocket cases on the ${backend} host`);

  for (const [name, make] of Object.entries(SERVERS)) {
    test(`${name}: ${AUTOBAHN_CASES.length} cases OK, NON-STRICT or INFORMATIONAL, but for ${Object.keys(DEVIATIONS).length} stated deviations`, async () => {
      // Autobahn's sections 1-7 and 10: 16 + 11 + 7 + 10 + 20 + 145 + 37 + 1 cases.
      assert.is(AUTOBAHN_CASES.length, 247);
      const server = make(backend);
      await server.listen();
      const port = server.address()!.port;
      const started = Date.now();
      try {
        const { counts, wrong } = await verdicts((c) => play(c, HOST, port));
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        console.log(`\n  Autobahn, ${name} on ${backend}: ${tally(counts)} (${seconds} s)`);
        assert.equal(wrong, []);
      } finally {
        await server.close();
      }
    });
  }

  test.run();
}
