// The API reference in docs/api is generated from the declarations (TypeDoc): it must be
// what `npm run docs` makes of the code as it is, or it has gone stale.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

function files(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]).sort();
}

test("docs/api is what TypeDoc generates from the current declarations (run npm run docs)", () => {
  const out = mkdtempSync(path.join(tmpdir(), "wr-api-"));
  try {
    const typedoc = spawnSync(process.execPath, ["node_modules/typedoc/bin/typedoc", "--out", out], { encoding: "utf8", timeout: 120_000 });
    assert.is(typedoc.status, 0, `${typedoc.stdout}${typedoc.stderr}`);
    const committed = files("docs/api");
    assert.equal(files(out), committed);
    for (const file of committed) {
      assert.fixture(readFileSync(path.join("docs/api", file), "utf8"), readFileSync(path.join(out, file), "utf8"), file);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test.run();
