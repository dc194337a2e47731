// Record and replay: a recording made on any host replays on a fresh module with every
// output byte checked; a changed byte is found and located; traps replay to the trap;
// a damaged file is refused in one line.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { TRAP_MAGIC } from "../host/module.js";
import { readTrace, replayTrace } from "../host/replay.js";
import { BACKENDS, closed, connect, echoRoundTrip, receive, receiveAll, startServer } from "./helpers.js";

const dir = mkdtempSync(path.join(tmpdir(), "wasm-reactor-trace-"));
const file = (name: string) => path.join(dir, name);

function cli(...args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], { encoding: "utf8", timeout: 60_000 });
}

/** Writes `text` and resolves with the reply once it is as long as `expected`. */
async function exchange(socket: import("node:net").Socket, text: string, expected: string): Promise<string> {
  const reply = receive(socket, expected.length);
  socket.write(text);
  return (await reply).toString();
}

/** A line session with pieces split and glued, recorded to `trace`. */
async function recordLineSession(backend: typeof BACKENDS[number], trace: string): Promise<void> {
  const server = await startServer({ backend, protocol: "line", record: trace });
  const a = await connect(server.address()!.port);
  const b = await connect(server.address()!.port);
  assert.is(await exchange(a, "first line\nsecond ", "first line\n"), "first line\n");
  assert.is(await exchange(a, "half\nneedle-line\n", "second half\nneedle-line\n"), "second half\nneedle-line\n");
  assert.is(await exchange(b, "from b\n", "from b\n"), "from b\n");
  const rest = receiveAll(a);
  a.end("last\n");
  assert.is((await rest).toString(), "last\n");
  b.destroy();
  await server.close();
}

for (const backend of BACKENDS) {
  test(`a session recorded on the ${backend} host replays with every output matching`, async () => {
    const trace = file(`${backend}.wrt`);
    await recordLineSession(backend, trace);
    const r = replayTrace(trace);
    assert.is(r.divergence, undefined, JSON.stringify(r.divergence));
    assert.ok(r.batches >= 4, `only ${r.batches} batches`);
    assert.is(r.header.host, backend);
    assert.ok(r.moduleMatches);
  });
}

test("a changed output byte is reported with its batch, connection and byte offset", async () => {
  const trace = file("tampered.wrt");
  await recordLineSession("native", trace);
  const bytes = readFileSync(trace);
  // "needle-line" appears twice: as input (DATA) and as output (SEND). Change the output.
  const input = bytes.indexOf("needle-line");
  const output = bytes.indexOf("needle-line", input + 1);
  assert.ok(output > input && input > 0);
  bytes[output + 3] ^= 0x20; // "needle" → "neeDle"
  writeFileSync(trace, bytes);
  const r = cli("replay", trace);
  assert.is(r.status, 1, r.stdout + r.stderr);
  // Connection a had sent "first line\n" (11) + "second half\n" (12) before "needle-line".
  assert.match(r.stdout, /diverged at batch \d+, connection \d+ \(slot \d+\), byte offset 26: sent byte 0x64, recorded 0x44/);
});

test("a trap is recorded and replays to the same trap", async () => {
  const trace = file("trap.wrt");
  const server = await startServer({ protocol: "echo", trapOnMagic: true, record: trace });
  server.on("trap", () => {});
  const ok = await connect(server.address()!.port);
  assert.is((await echoRoundTrip(ok, Buffer.from("fine"))).toString(), "fine");
  const attacker = await connect(server.address()!.port);
  const gone = closed(attacker);
  attacker.write(TRAP_MAGIC);
  await gone;
  const after = await connect(server.address()!.port);
  assert.is((await echoRoundTrip(after, Buffer.from("after"))).toString(), "after");
  after.destroy();
  ok.destroy();
  await server.close();
  const r = cli("replay", trace);
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, "reproduced 1 trap(s): abort: trap requested by input");
});

test("a truncated or corrupt trace is refused with one line and a non-zero exit", async () => {
  const trace = file("whole.wrt");
  await recordLineSession("native", trace);
  const bytes = readFileSync(trace);
  for (const [name, content, message] of [
    ["cut.wrt", bytes.subarray(0, bytes.length - 30), "truncated at byte"],
    ["junk.wrt", Buffer.from("hello, not a trace"), "not a wasm-reactor trace"],
    ["version.wrt", Buffer.concat([bytes.subarray(0, 8), Buffer.from([9, 0, 0, 0]), bytes.subarray(12)]), "trace version 9"],
  ] as const) {
    writeFileSync(file(name), content);
    const r = cli("replay", file(name));
    assert.is(r.status, 2, `${name}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
    assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});

test("serve --record writes a complete trace on SIGTERM", async () => {
  const trace = file("cli.wrt");
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "serve", "--protocol", "echo", "--port", "0",
    "--host", "127.0.0.1", "--record", trace], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const [line] = await once(child.stdout!, "data");
    const socket = await connect(Number(/port (\d+)/.exec(String(line))?.[1]));
    assert.is((await echoRoundTrip(socket, Buffer.from("recorded"))).toString(), "recorded");
    socket.destroy();
    child.kill("SIGTERM");
    assert.equal(await once(child, "exit"), [0, null]);
  } finally {
    child.kill("SIGKILL");
  }
  const r = cli("replay", trace);
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, "every output matches");
});

test("the flight recorder keeps only the recent past and replays it to the trap", async () => {
  const trace = file("flight.wrt");
  const server = await startServer({ protocol: "echo", trapOnMagic: true, flightRecorder: { path: trace, batches: 5 } });
  const recordings: string[] = [];
  server.on("trap", (_err: Error, info: { flightRecording?: string }) => recordings.push(info.flightRecording ?? ""));
  // One long-lived connection: 30 round trips are 30+ batches, far more than the window.
  const a = await connect(server.address()!.port);
  for (let i = 0; i < 30; i++) assert.is((await echoRoundTrip(a, Buffer.from(`msg ${i}`))).toString(), `msg ${i}`);
  const gone = closed(a);
  a.write(TRAP_MAGIC); // the same connection: replay must know it from the checkpoint
  await gone;
  await server.close();
  assert.equal(recordings, [trace]);
  const t = readTrace(trace);
  assert.ok(t.checkpoint, "a flight recording starts from a checkpoint");
  assert.ok(t.firstBatch >= 20, `it starts at batch ${t.firstBatch}, not at the beginning`);
  assert.ok(t.frames.length <= 11, `${t.frames.length} batches kept for a window of 5`);
  const r = cli("replay", trace);
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, "reproduced 1 trap(s): abort: trap requested by input");
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
