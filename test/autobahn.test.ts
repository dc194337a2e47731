// A public conformance corpus, run on both socket hosts: the Autobahn WebSocket
// testsuite's cases (test/autobahn.ts, a hand port), against the module's echo
// (ws-echo) and against a JS 'message' handler that sends each message back (ws).
// Every case must come out OK, NON-STRICT or INFORMATIONAL, except the deviations
// test/autobahn.ts lists with their reasons, which must still fail (so a fix shows).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "../src/server.js";
import { AUTOBAHN_CASES, DEVIATIONS, judge, play, type Verdict } from "./autobahn.js";
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
      const counts: Record<Verdict, number> = { OK: 0, "NON-STRICT": 0, INFORMATIONAL: 0, FAILED: 0 };
      const wrong: string[] = [];
      const started = Date.now();
      try {
        for (const c of AUTOBAHN_CASES) {
          const { verdict, detail } = judge(c, await play(c, HOST, port));
          counts[verdict]++;
          const deviation = DEVIATIONS[c.id];
          if (deviation !== undefined && verdict !== "FAILED") wrong.push(`${c.id} no longer deviates (${deviation}): ${verdict}; ${detail}`);
          if (deviation === undefined && verdict === "FAILED") wrong.push(`${c.id} ${c.description}: ${detail}`);
        }
      } finally {
        await server.close();
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(`\n  Autobahn, ${name} on ${backend}: ${Object.entries(counts).map(([v, n]) => `${n} ${v}`).join(", ")} (${seconds} s)`);
      assert.equal(wrong, []);
    });
  }

  test.run();
}
