#!/usr/bin/env node
// Imports llhttp's request fixtures (test/request/*.md of a nodejs/llhttp checkout,
// MIT licensed) as test/corpus/llhttp-requests.json: for each strict-mode request case,
// the bytes and what llhttp makes of them (how many messages complete, or the error).
// Lenient-mode, pausing and skip-body cases are left out: they test llhttp's options,
// not HTTP. The bytes are decoded as llhttp's md-test.ts decodes them.
//   node scripts/import-llhttp-corpus.mjs <llhttp checkout>
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import vm from "node:vm";

const root = path.resolve(process.argv[2] ?? ".");
const dir = path.join(root, "test", "request");
const commit = (() => {
  try {
    return execFileSync("git", ["-C", root, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
})();

/** llhttp's md-test.ts input decoding. */
function decode(input) {
  input = input.replace(/\n$/, "").replace(/\\(\r\n|\r|\n)/g, "").replace(/\r\n|\r|\n/g, "\r\n");
  input = input.replace(/\\r/g, "\r").replace(/\\n/g, "\n").replace(/\\t/g, "\t").replace(/\\f/g, "\f");
  input = input.replace(/\\x([0-9a-fA-F]+)/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  input = input.replace(/\\([0-7]{1,3})/g, (_, digits) => String.fromCharCode(parseInt(digits, 8)));
  return input.replace(/\$\{(.+?)\}/g, (_, code) => String(vm.runInNewContext(code)));
}

const cases = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith(".md")).sort()) {
  const text = readFileSync(path.join(dir, file), "utf8");
  // A case: a "### title", its meta comment, an ```http block and a ```log block.
  const re = /^#+ (.+)\n+<!-- meta=(\{.*?\}) -->\n```http\n([\s\S]*?)```\n+```log\n([\s\S]*?)```/gm;
  for (const m of text.matchAll(re)) {
    const meta = JSON.parse(m[2]);
    if (meta.type !== "request" || meta.pause || meta.skipBody) continue;
    if (m[3].includes("```")) continue; // a fixture whose block holds a fence of its own does not split cleanly
    const log = m[4];
    const error = /error code=(\d+) reason="(.*)"/.exec(log);
    cases.push({
      file, name: m[1].trim(),
      input: Buffer.from(decode(m[3]), "latin1").toString("base64"),
      complete: (log.match(/message complete/g) ?? []).length,
      error: error ? { code: Number(error[1]), reason: error[2] } : undefined,
    });
  }
}
const out = { source: "https://github.com/nodejs/llhttp test/request (MIT License, Copyright (c) 2018 Fedor Indutny)", commit, cases };
writeFileSync(new URL("../test/corpus/llhttp-requests.json", import.meta.url), `${JSON.stringify(out, null, 1)}\n`);
console.log(`${cases.length} cases from ${commit}`);
