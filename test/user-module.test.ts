// A user's own handler module: built by `wasm-reactor build` from AssemblyScript against
// the SDK, served by createServer({ module }) and `serve --module`, refused with one line
// when it is not a module of ours, and replayed against the same and a changed build.
// (What it does on every host is in the conformance suite.)
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { replayTrace } from "../host/replay.js";
import { createServer } from "../src/index.js";
import { buildModule, fixtureModule, fixtureSource } from "./fixture-modules.js";
import { connect, HOST, receive, receiveAll } from "./helpers.js";
import { withServing } from "./processes.js";

const scratch = mkdtempSync(path.join(tmpdir(), "wr-user-module-"));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
const upper = fixtureModule("upper");
const CLI = ["--import", "tsx", "src/cli.ts"];

function cli(args: string[]) {
  return spawnSync(process.execPath, [...CLI, ...args], { encoding: "utf8", timeout: 60_000 });
}

/** One client's whole session: connect, write, half-close, and everything the server sent. */
async function session(port: number, text: string): Promise<string> {
  const socket = await connect(port);
  assert.is((await receive(socket, 6)).toString(), "hello\n");
  socket.end(text);
  return (await receiveAll(socket)).toString();
}

test("wasm-reactor build compiles a handler; serve --module runs it", () =>
  withServing(process.execPath, [...CLI, "serve", "--module", upper, "--port", "0", "--host", HOST], async ({ line, port }) => {
    assert.match(line, `serving module ${upper}`);
    assert.is(await session(port, "serve me"), "SERVE MEgot 8 bytes\n");
  }));

test("a compile error is the compiler's, with file and line, and exit code 1", () => {
  const broken = path.join(scratch, "broken.ts");
  writeFileSync(broken, 'export * from "wasm-reactor/assembly/door";\nconst x: u32 = "not a number";\n');
  const r = cli(["build", broken, "-o", path.join(scratch, "broken.wasm")]);
  assert.is(r.status, 1);
  assert.match(r.stdout + r.stderr, "broken.ts(2,");
});

test("a handler that does not re-export the door is refused at build, saying what to do", () => {
  const doorless = path.join(scratch, "doorless.ts");
  writeFileSync(doorless, "export function hello(): u32 { return 1; }\n");
  const r = cli(["build", doorless, "-o", path.join(scratch, "doorless.wasm")]);
  assert.is(r.status, 1);
  assert.match(r.stderr, "is not a wasm-reactor handler module (it does not export init");
  assert.match(r.stderr, "wasm-reactor build");
});

for (const [what, make, message] of [
  ["a missing file", () => path.join(scratch, "nothing-here.wasm"), "does not exist"],
  ["a file that is not WebAssembly", () => path.resolve("README.md"), "is not a WebAssembly module"],
  ["an empty WebAssembly module", () => {
    const file = path.join(scratch, "empty.wasm");
    writeFileSync(file, Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
    return file;
  }, "is not a wasm-reactor handler module (it does not export init, dispatch"],
  ["a module built for another ABI", () => buildModule(fixtureSource("old-abi")), "was built for ABI 99, and this wasm-reactor speaks ABI 6"],
  ["a module that imports a clock", () => buildModule(fixtureSource("clock-import")), "imports env.Date.now, which the sandbox does not provide"],
] as const) {
  test(`${what} is refused at createServer with one line, and serve --module exits 2`, () => {
    const file = make();
    assert.throws(() => createServer({ module: file }), (err: Error) => err.message.includes(message) && !err.message.includes("\n"));
    const r = cli(["serve", "--module", file, "--port", "0"]);
    assert.is(r.status, 2);
    assert.match(r.stderr, message);
    assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
  });
}

test("module and protocol together are refused; protocol \"module\" needs a module", () => {
  assert.throws(() => createServer({ protocol: "line", module: upper }), /module replaces the protocol/);
  assert.throws(() => createServer({ protocol: "module" }), /protocol "module" needs module/);
});

test("HTTP limits reach a module on the SDK's HTTP level; one without it refuses them at createServer", async () => {
  const api = buildModule("examples/http-api/handler.ts", "http-api");
  const server = await createServer({ module: api, host: HOST, port: 0, maxBodySize: 16, maxUriLength: 64 }).listen();
  try {
    const url = `http://${HOST}:${server.address()!.port}`;
    const small = await fetch(`${url}/notes`, { method: "POST", body: "fits in 16" });
    assert.is(small.status, 201);
    const big = await fetch(`${url}/notes`, { method: "POST", body: "x".repeat(17) });
    assert.is(big.status, 413);
    assert.is((await fetch(`${url}/notes/${"9".repeat(80)}`)).status, 414);
  } finally {
    await server.close();
  }
  assert.throws(() => createServer({ module: upper, maxBodySize: 16 }),
    /maxBodySize does nothing for upper\.wasm: it has no HTTP or WebSocket level/);
  assert.throws(() => createServer({ protocol: "echo", maxBodySize: 16 }), /maxBodySize applies to protocol .*module, not echo/);
});

test("a recorded session of a module replays against the same build, and a changed build's divergence is named", async () => {
  const trace = path.join(scratch, "upper.wrt");
  const server = await createServer({ module: upper, host: HOST, port: 0, record: trace }).listen();
  try {
    assert.is(await session(server.address()!.port, "abc"), "ABCgot 3 bytes\n");
  } finally {
    await server.close();
  }
  const same = replayTrace(trace);
  assert.is(same.divergence, undefined);
  assert.ok(same.moduleMatches);
  assert.ok(same.batches > 0);
  // v2 says goodbye instead of hello: the first output already differs, at byte 0.
  const v2Source = path.join(scratch, "upper-v2.ts");
  writeFileSync(v2Source, readFileSync(fixtureSource("upper"), "utf8").replace('"hello\\n"', '"howdy\\n"'));
  const v2 = buildModule(v2Source);
  const changed = replayTrace(trace, v2);
  assert.ok(changed.divergence, "the changed build diverges");
  assert.is(changed.divergence!.byteOffset, 1);
  const r = cli(["replay", trace, "--module", v2]);
  assert.is(r.status, 1);
  assert.match(r.stdout, "diverged at batch");
});

test.run();
