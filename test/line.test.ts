// What the line protocol promises per connection is in conformance.test.ts; here, what
// one connection's failure must not do to the others.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BACKENDS, connect, receive, receiveAll, startServer } from "./helpers.js";

for (const backend of BACKENDS) {
  test(`an over-long line on the ${backend} host closes only its own connection`, async () => {
    const server = await startServer({ backend, protocol: "line", maxLineLength: 1024 });
    try {
      const port = server.address()!.port;
      const other = await connect(port);
      const offender = await connect(port);
      other.write("in prog"); // a partial line waits in its buffer meanwhile
      const all = receiveAll(offender);
      offender.write("fine\n" + "y".repeat(2000));
      assert.is((await all).toString(), "fine\nERR line too long\n");
      const reply = receive(other, "in progress\nalive\n".length);
      other.write("ress\nalive\n");
      assert.is((await reply).toString(), "in progress\nalive\n");
      other.destroy();
    } finally {
      await server.close();
    }
  });
}

test.run();
