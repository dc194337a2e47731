// The ABI's numbers live in assembly/abi.ts (module) and native/abi.h (host);
// docs/ABI.md documents them. This keeps the two copies from drifting apart.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { ABI_VERSION, PROTOCOLS } from "../host/module.js";

const ts = readFileSync("assembly/abi.ts", "utf8");
const h = readFileSync("native/abi.h", "utf8");

function tsConst(name: string): number {
  const m = new RegExp(`export const ${name}: u32 = ([^;]+);`).exec(ts);
  if (!m) throw new Error(`${name} missing from assembly/abi.ts`);
  return Number(m[1]);
}

function hConst(name: string): number {
  const m = new RegExp(`\\b${name} = (0x[0-9a-f]+|\\d+)`, "i").exec(h);
  if (!m) throw new Error(`${name} missing from native/abi.h`);
  return Number(m[1]);
}

const pairs: [string, string][] = [
  ["ABI_MAGIC", "kAbiMagic"], ["ABI_VERSION", "kAbiVersion"],
  ["H_MAGIC", "kHMagic"], ["H_VERSION", "kHVersion"], ["H_EV_RING", "kHEvRing"], ["H_EV_CAP", "kHEvCap"],
  ["H_SUB_RING", "kHSubRing"], ["H_SUB_CAP", "kHSubCap"], ["H_ARENA", "kHArena"],
  ["H_ARENA_HALF", "kHArenaHalf"], ["H_MAX_CONNS", "kHMaxConns"], ["H_FLAGS", "kHFlags"],
  ["H_OPEN_CONNS", "kHOpenConns"], ["H_NOW_MS", "kHNowMs"], ["H_UNIX_SECONDS", "kHUnixSeconds"],
  ["H_DEADLINE", "kHDeadline"], ["H_CURRENT", "kHCurrent"], ["H_CURRENT_CONN", "kHCurrentConn"], ["FLAG_MORE", "kFlagMore"], ["FLAG_TIMER", "kFlagTimer"],
  ["EV_ACCEPT", "kEvAccept"], ["EV_DATA", "kEvData"], ["EV_EOF", "kEvEof"], ["EV_ERROR", "kEvError"],
  ["EV_WRITABLE", "kEvWritable"], ["EV_SENT", "kEvSent"], ["EV_SHUTDOWN", "kEvShutdown"], ["EV_RESPONSE", "kEvResponse"],
  ["OP_OUTBOX", "kOpOutbox"], ["EV_WS_SEND", "kEvWsSend"],
  ["EV_WS_CLOSE", "kEvWsClose"], ["EV_WS_BROADCAST", "kEvWsBroadcast"],
  ["OP_SEND", "kOpSend"], ["OP_SEND_NOTIFY", "kOpSendNotify"], ["OP_INTEREST", "kOpInterest"],
  ["OP_CLOSE", "kOpClose"], ["INTEREST_IN", "kInterestIn"], ["INTEREST_OUT", "kInterestOut"],
  ["SLOT_BITS", "kSlotBits"],
];

for (const [module, host] of pairs) {
  test(`${module} is the same on both sides of the door`, () => {
    assert.is(tsConst(module), hConst(host));
  });
}

for (const protocol of PROTOCOLS) {
  test(`the built ${protocol} module reports the ABI version both hosts expect`, async () => {
    const bytes = readFileSync(`dist/${protocol}.wasm`);
    const mod = new WebAssembly.Module(bytes);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const instance = new WebAssembly.Instance(mod, { env: { memory, abort: () => { throw new Error("abort"); } } });
    const version = instance.exports.ABI_VERSION as WebAssembly.Global;
    assert.is(version.value, hConst("kAbiVersion"));
    assert.is(version.value, ABI_VERSION);
  });
}

test.run();
