// The soak's short run (scripts/soak.mjs): two minutes of mixed traffic on every
// protocol against one server process; passes when RSS, module memory, open fds and
// event-loop delay stay within their bounds after the warm-up and every well-behaved
// client got every byte. WASM_REACTOR_SOAK_MINUTES sets another length.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// @ts-expect-error: a plain ES module script, without declarations
import { soak } from "../scripts/soak.mjs";

test("a short soak: every bound holds after the warm-up, every well-behaved client got every byte", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wr-soak-"));
  try {
    const minutes = Number(process.env.WASM_REACTOR_SOAK_MINUTES ?? 2);
    const report = await soak(minutes, join(dir, "soak"));
    assert.equal(report.failedClients, []);
    assert.equal(report.breaches, []);
    assert.ok(report.passed);
    for (const [name, r] of Object.entries(report.clients as Record<string, { rounds: number }>)) assert.ok(r.rounds > 0, `${name} never ran`);
    assert.ok(report.samples.at(-1).traps > 0, "the poisoned inputs trapped the module");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
