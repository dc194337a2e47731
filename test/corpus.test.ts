// A public conformance corpus, run on both socket hosts: llhttp's request fixtures
// (nodejs/llhttp test/request, strict mode; imported by scripts/import-llhttp-corpus.mjs).
// Every case must agree with llhttp — a request it completes is answered, one it refuses
// is refused — except the deviations test/corpus.ts lists with their reasons, which
// must still deviate (so a change on either side shows).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer } from "../src/server.js";
import { DEVIATIONS, disagreements, exchange, LLHTTP_CASES } from "./corpus.js";
import { BACKENDS, HOST } from "./helpers.js";

for (const backend of BACKENDS) {
  const test = suite(`llhttp's request corpus on the ${backend} host`);

  test(`${LLHTTP_CASES.length} cases agree with llhttp's strict mode, but for ${Object.keys(DEVIATIONS).length} stated deviations`, async () => {
    assert.ok(LLHTTP_CASES.length >= 90, `only ${LLHTTP_CASES.length} cases imported`);
    const server = createServer({ backend, host: HOST, port: 0, protocol: "http", routes: {} });
    await server.listen();
    const port = server.address()!.port;
    try {
      assert.equal(await disagreements((bytes) => exchange(port, bytes)), []);
    } finally {
      await server.close();
    }
  });

  test.run();
}
