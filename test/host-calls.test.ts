// Host calls (assembly/sdk/host.ts, src/calls.ts): a handler module asks the application
// for something by name; sync and async answers come back to it, out of order when the
// application answers so; unknown names, failures and silence (a timeout on the module's
// clock) are answered too; a recording replays without the application.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { replayTrace } from "../host/replay.js";
import { createServer, type HostCallFunction } from "../src/index.js";
import { simulateModule } from "../src/testing.js";
import { fixtureModule } from "./fixture-modules.js";
import { BACKENDS, connect, HOST, receive, sleep } from "./helpers.js";

const lookup = fixtureModule("lookup");
const USERS: Record<string, string> = { ada: "Ada Lovelace", alan: "Alan Turing" };

const calls: Record<string, HostCallFunction> = {
  user: (key) => USERS[key.toString()] ?? "",
  // Answers after a delay that shrinks with the argument: later calls can be answered first.
  later: async (key) => {
    await sleep(Number(key.toString()));
    return `after ${key}`;
  },
  broken: () => {
    throw new Error("the database is down");
  },
  silent: () => new Promise(() => {}), // never answers
};

/** The answer lines "<id> <status> <bytes>", by call id. */
function answers(text: string): Record<string, string> {
  return Object.fromEntries(text.split("\n").filter((line) => line !== "").map((line) => {
    const [id, ...rest] = line.split(" ");
    return [id, rest.join(" ")];
  }));
}

for (const backend of BACKENDS) {
  test(`on the ${backend} host: sync and async answers, out of order, failures and unknown names, recorded and replayed`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "wr-calls-"));
    const record = path.join(dir, "calls.wrt");
    const errors: string[] = [];
    const server = await createServer({ module: lookup, backend, host: HOST, port: 0, calls, record }).listen();
    server.on("callError", (err, call) => errors.push(`${call.name}: ${err.message}`));
    try {
      const socket = await connect(server.address()!.port);
      socket.write("user ada\nlater 60\nlater 5\nbroken x\nnope y\nuser nobody\n");
      const lines = ["1 0 Ada Lovelace", "2 0 after 60", "3 0 after 5", "4 1 the database is down", "5 2 no host function \"nope\"", "6 0 "];
      const expected = lines.join("\n") + "\n";
      const got = (await receive(socket, expected.length)).toString();
      assert.equal(answers(got), answers(expected));
      assert.ok(got.indexOf("3 0 after 5") < got.indexOf("2 0 after 60"), "the quicker answer came first");
      assert.equal(errors, ["broken: the database is down"]);
      socket.destroy();
    } finally {
      await server.close();
    }
    try {
      const replay = replayTrace(record); // no application: the answers are in the trace
      assert.is(replay.divergence, undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("a call nobody answers times out on the module's clock; a closed connection gets no late answer", async () => {
  const net = simulateModule({ module: lookup, options: { calls, callTimeout: 500 } });
  const client = net.connect().write("silent a\nuser alan\n");
  net.run();
  assert.is(client.text(), "2 0 Alan Turing\n", "the answered call, not the silent one");
  net.advance(600);
  assert.is(client.text(), "2 0 Alan Turing\n1 3 \n", "status 3: timed out, after 500 virtual ms");
  const other = simulateModule({ module: lookup, options: { calls } }); // with no silent call pending, settle() can finish
  const gone = other.connect().write("later 20\n").end();
  other.run();
  await other.settle();
  assert.ok(gone.closed);
  assert.is(gone.text(), "", "its answer found the connection closed");
});

test("calls belong to handler modules, with one thread", () => {
  assert.throws(() => createServer({ protocol: "echo", calls }), /calls applies to protocol module, not echo/);
  assert.throws(() => createServer({ module: lookup, threads: 2, calls }), /calls need threads: 1/);
  assert.throws(() => createServer({ module: lookup, calls: { user: "not a function" as never } }), /calls\.user must be a function/);
});

test.run();
