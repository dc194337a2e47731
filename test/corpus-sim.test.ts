// The two public conformance corpora (llhttp's requests, Autobahn's WebSocket cases) on
// the simulator, under fault seeds: the same cases, judged the same way and held to the
// same verdicts as on the socket hosts (test/corpus.test.ts, test/autobahn.test.ts), while
// the virtual network cuts reads at random bytes, glues them, sends short, stalls the
// reader and delays deliveries. A case that passes on a socket and fails here is a server
// that depends on how its bytes were cut; the seed replays it byte for byte.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { simulateModule, type SimulationOptions } from "../src/testing.js";
import { AUTOBAHN_CASES, playSimulated, tally, verdicts } from "./autobahn.js";
import { disagreements, exchangeSimulated, LLHTTP_CASES } from "./corpus.js";

/** One seed without faults (the corpora as on a socket), one with every fault, one that cuts almost every read. */
const SEEDS: { seed: number; faults: SimulationOptions["faults"]; name: string }[] = [
  { seed: 1, faults: "none", name: "no faults" },
  { seed: 2, faults: "all", name: "every fault" },
  { seed: 3, faults: { split: 0.9, shortSend: 0.5, slowReader: 0.2, delay: 0.2 }, name: "reads split 9 times in 10" },
];

/**
 * As on the socket hosts. The JS echo answers a turn after the module has parsed the
 * message, so in the "echo, then the connection fails" cases (3.2, 4.x.3, 4.x.4, 5.15) a
 * bad frame that comes in the same read as the message fails the connection before the
 * echo: NON-STRICT, as on a socket (where frames written together arrive together), and
 * here under the glue fault; apart, OK. Both verdicts pass, on either host.
 */
const ECHOES: Record<string, Pick<SimulationOptions, "protocol" | "onWebSocket">> = {
  "ws-echo": { protocol: "ws-echo" },
  "a JS echo": { protocol: "ws", onWebSocket: (ws) => ws.on("message", (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary })) },
};

for (const { seed, faults, name } of SEEDS) {
  const test = suite(`the conformance corpora on the simulator, seed ${seed} (${name})`);

  test(`llhttp: ${LLHTTP_CASES.length} cases as on a socket`, async () => {
    const network = simulateModule({ protocol: "http", seed, faults, options: { routes: {} } });
    assert.equal(await disagreements((bytes) => exchangeSimulated(network, bytes)), []);
  });

  for (const [echo, server] of Object.entries(ECHOES)) {
    test(`Autobahn, ${echo}: ${AUTOBAHN_CASES.length} cases as on a socket`, async () => {
      const network = simulateModule({ ...server, seed, faults });
      const started = Date.now();
      const { counts, wrong } = await verdicts((c) => playSimulated(c, network));
      console.log(`\n  Autobahn, ${echo} on the simulator, seed ${seed}: ${tally(counts)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      assert.equal(wrong, []);
    });
  }

  test.run();
}
