// Hostile input must never trap the module: a trap closes every connection of the
// instance, so one malformed request must not be a way to drop everyone. Valid
// requests and frames are mutated (bytes changed, dropped, inserted, the whole
// doubled), cut at random points and spread over a fresh connection and long-lived
// ones, so state left by garbage meets the next chunk. Seeded: a failure prints its input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connId, Door, EV } from "../host/door.js";
import { startInstance, type Protocol } from "../host/module.js";
import { Random } from "../host/sim.js";
import { httpConfig, resolveOptions } from "../src/options.js";

const SEEDS = [
  "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
  "POST /form?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: x\r\n\r\n",
  "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a, b\r\n\r\n\x81\x85\x01\x02\x03\x04ifmmp\x01\x81\x00\x00\x00\x00a\x89\x80\x00\x00\x00\x00\x80\x81\x00\x00\x00\x00b\x88\x82\x00\x00\x00\x00\x03\xe8",
];

function mutate(random: Random, source: string): Buffer {
  let bytes = Buffer.from(source, "latin1");
  for (let k = random.int(8); k > 0; k--) {
    const at = random.int(bytes.length);
    const op = random.int(3);
    if (op === 0) bytes[at] = random.int(256);
    else if (op === 1) bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    else bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([random.int(256)]), bytes.subarray(at)]);
  }
  return random.int(2) ? Buffer.concat([bytes, bytes]) : bytes;
}

for (const protocol of ["http", "ws-echo", "ws"] as Protocol[]) {
  test(`${protocol}: 5,000 mutated requests and frames never trap the module`, () => {
    const options = resolveOptions({ protocol, maxBodySize: 5000, maxHeaderSize: 2000, routes: { "/": "x" },
      subprotocols: protocol === "http" ? undefined : ["b"] });
    const door = new Door(startInstance({ protocol, eventCapacity: 256, arenaHalfBytes: 256 * 1024, maxLineLength: 100,
      http: httpConfig(options, protocol === "http") }));
    const random = new Random(7);
    for (let slot = 500; slot < 520; slot++) door.push(EV.ACCEPT, connId(slot, 1), 0);
    for (let i = 0; i < 5000; i++) {
      const fresh = connId(1 + (i % 200), 1 + Math.floor(i / 200));
      door.push(EV.ACCEPT, fresh, 0);
      const input = mutate(random, SEEDS[random.int(SEEDS.length)]);
      for (let off = 0; off < input.length;) {
        const len = 1 + random.int(input.length - off);
        door.pushData(random.int(2) ? connId(500 + random.int(20), 1) : fresh, input.subarray(off, off + len));
        off += len;
      }
      door.push(EV.ERROR, fresh, 104);
      try {
        door.dispatch();
      } catch (err) {
        assert.unreachable(`trapped on ${JSON.stringify(input.toString("latin1"))}: ${(err as Error).message}`);
      }
    }
  });
}

test.run();
