// The module on its own, driven through the ABI by hand: what no real socket on this
// machine can reach (slot numbers up to 1,048,575, a million idle connections) and the
// generation check that keeps a reused slot from reaching a dead connection.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startInstance, type ModuleInstance } from "../host/module.js";

const EV = { ACCEPT: 1, DATA: 2, EOF: 3, ERROR: 4 };
const OP = { SEND: 1, SEND_NOTIFY: 2, INTEREST: 3, CLOSE: 4 };
const id = (slot: number, gen: number) => (slot | (gen << 20)) >>> 0;

type Rec = [op: number, conn: number, a: number, b: number];

/** A minimal host: writes records (and DATA bytes) into the module, returns its submissions. */
function driver(m: ModuleInstance) {
  const word = (offset: number) => new DataView(m.memory.buffer).getUint32(m.header + offset, true);
  const evRing = word(8), subRing = word(16), arena = word(24);
  return {
    batch(records: Rec[], payloads: Uint8Array[] = []): Rec[] {
      let at = arena;
      let p = 0;
      for (const [i, r] of records.entries()) {
        if (r[0] === EV.DATA) {
          const bytes = payloads[p++];
          new Uint8Array(m.memory.buffer).set(bytes, at);
          r[2] = at;
          r[3] = bytes.length;
          at += bytes.length;
        }
        const view = new DataView(m.memory.buffer);
        r.forEach((v, k) => view.setUint32(evRing + i * 16 + k * 4, v, true));
      }
      const n = m.dispatch(records.length);
      const view = new DataView(m.memory.buffer); // re-read: dispatch may have grown memory
      return Array.from({ length: n }, (_, i) =>
        [0, 1, 2, 3].map((k) => view.getUint32(subRing + i * 16 + k * 4, true)) as Rec);
    },
    bytes(ptr: number, len: number): string {
      return Buffer.from(m.memory.buffer, ptr, len).toString();
    },
  };
}

const config = { protocol: "echo" as const, eventCapacity: 1024, arenaHalfBytes: 64 * 1024, maxLineLength: 1024 };

test("an event for an old generation of a reused slot never reaches the new connection", () => {
  const d = driver(startInstance(config));
  d.batch([[EV.ACCEPT, id(7, 1), 0, 0]]);
  const closed = d.batch([[EV.ERROR, id(7, 1), 104, 0]]);
  assert.equal(closed, [[OP.CLOSE, id(7, 1), 0, 0]]);
  d.batch([[EV.ACCEPT, id(7, 2), 0, 0]]);
  const out = d.batch([[EV.DATA, id(7, 1), 0, 0], [EV.DATA, id(7, 2), 0, 0]],
    [Buffer.from("stale"), Buffer.from("fresh")]);
  assert.is(out.length, 1, "only the live generation is answered");
  assert.equal(out[0].slice(0, 2), [OP.SEND, id(7, 2)]);
  assert.is(d.bytes(out[0][2], out[0][3]), "fresh");
});

test("the handle table grows to slot 1,048,575", () => {
  const m = startInstance(config);
  const d = driver(m);
  const last = (1 << 20) - 1;
  d.batch([[EV.ACCEPT, id(last, 3), 0, 0]]);
  const out = d.batch([[EV.DATA, id(last, 3), 0, 0]], [Buffer.from("top slot")]);
  assert.equal(out.map((r) => r.slice(0, 2)), [[OP.SEND, id(last, 3)]]);
  assert.is(d.bytes(out[0][2], out[0][3]), "top slot");
});

test("a million idle connections cost well under 100 bytes each", () => {
  const m = startInstance(config);
  const d = driver(m);
  const before = m.connectionBytes();
  for (let base = 0; base < 1 << 20; base += 1024) {
    d.batch(Array.from({ length: 1024 }, (_, i): Rec => [EV.ACCEPT, id(base + i, 1), 0, 0]));
  }
  const perConnection = (m.connectionBytes() - before) / (1 << 20);
  assert.ok(perConnection < 100, `${perConnection} bytes per idle connection`);
  // They are all alive: the last one still answers.
  const out = d.batch([[EV.DATA, id((1 << 20) - 1, 1), 0, 0]], [Buffer.from("hi")]);
  assert.is(out.length, 1);
});

test("a close after a reply waits for the reply to be acknowledged", () => {
  const d = driver(startInstance(config));
  d.batch([[EV.ACCEPT, id(3, 1), 0, 0]]);
  const out = d.batch([[EV.DATA, id(3, 1), 0, 0], [EV.EOF, id(3, 1), 0, 0]], [Buffer.from("last words")]);
  // Not a CLOSE yet: a notified send, and input interest off.
  assert.equal(out.map((r) => r[0]), [OP.SEND_NOTIFY, OP.INTEREST]);
  const [, , ptr, len] = out[0];
  const after = d.batch([[6 /* SENT */, id(3, 1), ptr + len, 0]]);
  assert.equal(after, [[OP.CLOSE, id(3, 1), 0, 0]]);
});


test("closing many connections at once stays within the submission ring (idle sweep of stuck connections)", async () => {
  const { Door, EV: E, OP: O } = await import("../host/door.js");
  let now = 1000;
  const clock = { nowMs: () => now, unixSeconds: () => 0 };
  // 16-record batches: the ring holds 2 × 16 + 1 submissions, far fewer than the 100 closes due.
  const door = new Door(startInstance({ ...config, eventCapacity: 16, idleTimeoutMs: 100 }), clock);
  const conns = Array.from({ length: 100 }, (_, i) => id(10 + i, 1));
  for (let i = 0; i < conns.length; i += 16) {
    const group = conns.slice(i, i + 16);
    for (const c of group) door.push(E.ACCEPT, c);
    door.dispatch();
    for (const c of group) door.pushData(c, Buffer.from("x"));
    const sends = door.dispatch().filter((s) => s.op === O.SEND);
    // Nothing went out: each connection keeps unsent output, so an idle close must be immediate.
    for (const s of sends) door.push(E.SENT, s.conn, s.a, s.b);
    door.dispatch();
  }
  now += 1000;
  let closes = 0;
  for (let batch = 0; batch < 50 && closes < conns.length; batch++) {
    closes += door.dispatch().filter((s) => s.op === O.CLOSE).length; // a trap here: the ring overflowed
  }
  assert.is(closes, conns.length);
});

test.run();
