// A checkpoint is the module's memory plus its exported state globals. That is only
// complete if the module keeps no other state: every mutable global must be exported.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { restoreCheckpoint, takeCheckpoint } from "../host/checkpoint.js";
import { Door, EV } from "../host/door.js";
import { PROTOCOLS, startInstance } from "../host/module.js";

for (const protocol of PROTOCOLS) {
  test(`every mutable global of the ${protocol} module is exported as state_*`, () => {
    const wat = readFileSync(`dist/${protocol}.wat`, "utf8");
    const mutable = [...wat.matchAll(/\(global (\$\S+) \(mut /g)].map((m) => m[1]);
    const exported = new Set([...wat.matchAll(/\(export "state_\w+" \(global (\$\S+)\)\)/g)].map((m) => m[1]));
    assert.ok(mutable.length > 10);
    assert.equal(mutable.filter((g) => !exported.has(g)), []);
  });
}

test("a restored checkpoint continues exactly like the original", () => {
  const config = { protocol: "line" as const, eventCapacity: 64, arenaHalfBytes: 64 * 1024, maxLineLength: 100 };
  const original = new Door(startInstance(config));
  original.push(EV.ACCEPT, 5 | (1 << 20));
  original.dispatch();
  original.pushData(5 | (1 << 20), Buffer.from("a partial li"));
  original.dispatch();
  const cp = takeCheckpoint(original.instance.memory, original.instance.exports);

  const copy = new Door(startInstance(config));
  restoreCheckpoint(copy.instance.memory, copy.instance.exports, cp);
  for (const door of [original, copy]) door.pushData(5 | (1 << 20), Buffer.from("ne\n"));
  const [a, b] = [original.dispatch(), copy.dispatch()];
  assert.equal(a, b);
  assert.is(Buffer.from(original.bytes(a[0].a, a[0].b)).toString(), "a partial line\n");
  assert.is(Buffer.from(copy.bytes(b[0].a, b[0].b)).toString(), "a partial line\n");
});

test.run();
