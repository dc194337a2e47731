// examples/resp: the Redis-protocol key-value server, built from source by the tests and
// driven by the real redis-cli and redis-benchmark (Debian's redis-tools; .ci/run installs
// it). Each command's answer is compared with a real redis-server's, started here on a
// free port. The test kit's simulator runs it too, in virtual time.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "../src/index.js";
import { simulateModule } from "../src/testing.js";
import { buildModule } from "./fixture-modules.js";
import { connect, HOST, receiveAll, sleep } from "./helpers.js";
import { cli, requireRedisTools, run, startRedis } from "./redis-server.js";

requireRedisTools(["redis-cli", "redis-benchmark", "redis-server"]);

const resp = buildModule("examples/resp/handler.ts", "resp");

const SESSION = [
  ["PING"], ["PING", "hello"], ["ECHO", "echo me"], ["SET", "k", "v"], ["GET", "k"], ["GET", "missing"],
  ["SET", "k", "w", "NX"], ["SET", "k", "w", "XX"], ["GET", "k"], ["SET", "other", "x", "XX"],
  ["SET", "n", "41"], ["INCR", "n"], ["INCRBY", "n", "-50"], ["DECR", "n"], ["INCR", "fresh"], ["INCR", "k"],
  ["MSET", "a", "1", "b", "2"], ["MGET", "a", "b", "nope"], ["EXISTS", "a", "b", "nope"], ["DEL", "a", "nope"],
  ["SET", "t", "v", "EX", "100"], ["TTL", "t"], ["TTL", "b"], ["TTL", "nope"], ["EXPIRE", "b", "50"], ["TTL", "b"],
  ["EXPIRE", "nope", "5"], ["DBSIZE"], ["FLUSHALL"], ["DBSIZE"], ["GET", "k"],
];

for (const backend of ["native", "net"] as const) {
  test(`redis-cli gets the answers a real redis-server gives, on the ${backend} host`, async () => {
    const redis = await startRedis();
    const ours = await createServer({ module: resp, backend, host: HOST, port: 0 }).listen();
    try {
      for (const command of SESSION) {
        assert.is(await cli(ours.address()!.port, command), await cli(redis.port, command), command.join(" "));
      }
    } finally {
      redis.child.kill();
      await ours.close();
    }
  });
}

async function withResp(body: (server: Server, port: number) => Promise<void> | void): Promise<void> {
  const server = await createServer({ module: resp, host: HOST, port: 0 }).listen();
  try {
    await body(server, server.address()!.port);
  } finally {
    await server.close();
  }
}

test("keys expire on the module's clock", () => withResp(async (_s, port) => {
  assert.is(await cli(port, ["SET", "soon", "gone", "PX", "100"]), "OK");
  assert.is(await cli(port, ["GET", "soon"]), "gone");
  await sleep(250);
  assert.is(await cli(port, ["GET", "soon"]), "");
  assert.is(await cli(port, ["DBSIZE"]), "0");
}));

test("unknown commands and bad input get RESP errors; a protocol error closes only that connection", () => withResp(async (_s, port) => {
  assert.match(await cli(port, ["NOSUCH", "x"]), "ERR unknown command 'NOSUCH'");
  assert.match(await cli(port, ["GET"]), "ERR wrong number of arguments");
  assert.match(await cli(port, ["SET", "a", "b", "EX", "soon"]), "ERR invalid expire time");
  const socket = await connect(port);
  socket.write("*1\r\n$x\r\n");
  assert.match((await receiveAll(socket)).toString(), "-ERR Protocol error: invalid bulk length\r\n");
  assert.is(await cli(port, ["PING"]), "PONG");
}));

test("redis-benchmark runs SET and GET pipelined over 50 connections with every reply well-formed", () => withResp(async (_s, port) => {
  const r = await run("redis-benchmark", ["-h", HOST, "-p", String(port), "-t", "set,get", "-c", "50", "-n", "20000", "-P", "16", "-q"]);
  const out = r.stdout.replace(/\r/g, "\n");
  assert.match(out, /SET: [\d.]+ requests per second/);
  assert.match(out, /GET: [\d.]+ requests per second/);
  assert.not.match(out, /error/i);
}));

/** A command in RESP, as redis-cli writes it. */
const command = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;

test("on the simulator (wasm-reactor/testing): an hour of TTL passes in virtual time, and pipelined commands survive every fault", () => {
  for (const seed of [1, 2, 3]) {
    const net = simulateModule({ module: resp, seed, faults: "all" });
    const client = net.connect().write(command("SET", "session", "abc", "EX", "3600") + command("INCR", "n") + command("INCR", "n"));
    net.run();
    assert.is(client.text(), "+OK\r\n:1\r\n:2\r\n", `seed ${seed}`);
    const reply = (commands: string) => {
      const before = client.text().length;
      client.write(commands);
      net.run();
      return client.text().slice(before);
    };
    net.advance(3599_000);
    assert.is(reply(command("GET", "session")), "$3\r\nabc\r\n", `seed ${seed}: a second before its hour`);
    net.advance(2000);
    assert.is(reply(command("GET", "session") + command("DBSIZE")), "$-1\r\n:1\r\n", `seed ${seed}: gone after it`);
  }
});

test.run();
