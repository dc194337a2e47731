// The stream level of the handler SDK: a connection's bytes in, bytes out.
//
//   export * from "wasm-reactor/assembly/door";      // every module re-exports the door
//   import { onData, send } from "wasm-reactor/assembly/sdk/stream";
//
//   onData((conn, data, length) => send(conn, data, length));   // an echo server
//
// Build it with `npx wasm-reactor build handler.ts -o handler.wasm`, run it with
// `createServer({ module: "handler.wasm" })`. docs/HANDLERS.md has the whole guide.
//
// A connection is its slot in the handle table: valid from its open hook until its close
// hook returns. Input arrives where the kernel put it: `data` points into the module's
// arena, valid during the hook only (keep bytes by copying them). send() of such a slice
// goes out without a copy; anything else is copied into the connection's output buffer.
// The hooks run inside dispatch(): they must not block, and they cannot, since the module
// has no way to wait.

import { nowMs } from "../clock";
import { allocBlock, classOf, freeBlock } from "../alloc";
import { bufAppend, bufConsume, bufData, bufFree, bufLength } from "../buffer";
import { clearFlag, F_CLOSING, F_HOLD_IN, F_OPEN, flags, setFlag } from "../handles";
import {
  onClose as coreOnClose, onData as coreOnData, onEof, onOpen as coreOnOpen, onTick as coreOnTick, onTimer as coreOnTimer, useReplyArena,
} from "../handler";
import { MAX_TIMER_MS, timerArm, timerCancel } from "../timers";
import { pendingInput, releaseConnData, setPendingInput, stateOf } from "./conn";
import { numberLength, utf8Length, writeNumber, writeUtf8 } from "./format";
import { closeNow as coreCloseNow, closeWhenFlushed as coreCloseWhenFlushed, markDirty, reserveReply, send as coreSend } from "../output";

/** A connection: its slot, valid from its open hook until its close hook returns. */
export type Conn = u32;

// Room to format replies in (sendText), per batch: where an answer goes out from
// without a copy, like echoed bytes.
const REPLY_ARENA_HALF: u32 = 64 << 10;
useReplyArena(REPLY_ARENA_HALF);

// The stream level's own hooks and settings, in linear memory (no globals: a checkpoint holds them).
const STREAM = memory.data(12);
const S_ON_CLOSE: usize = 0; // the handler's close hook, or 0
const S_ON_READ: usize = 4; // the handler's read hook (onRead), or 0
const S_MAX_PENDING: usize = 8; // onRead: the most unconsumed input kept, in bytes (0: 1 MiB)
const DEFAULT_MAX_PENDING: u32 = 1 << 20;

// Every connection's close: the handler's hook, then what the SDK kept for it.
coreOnClose((conn: u32): void => {
  const hook = load<u32>(STREAM, S_ON_CLOSE);
  if (hook != 0) changetype<(conn: u32) => void>(hook)(conn);
  releaseConnData(conn);
});

/** A connection was accepted. */
export function onOpen(fn: (conn: Conn) => void): void {
  coreOnOpen(fn);
}

/** Bytes arrived: `length` bytes at `data`, where the kernel put them (valid during this call only). */
export function onData(fn: (conn: Conn, data: usize, length: u32) => void): void {
  coreOnData(fn);
}

/** The peer finished sending. Without this hook the connection closes once its output has gone. */
export function onEnd(fn: (conn: Conn) => void): void {
  onEof(fn);
}

/**
 * The connection is closing for good (the peer left, it was closed, or the server shuts
 * down): the last hook it gets. Its state (connState) is freed after this returns.
 */
export function onClose(fn: (conn: Conn) => void): void {
  store<u32>(STREAM, changetype<u32>(fn), S_ON_CLOSE);
}

/**
 * Bytes arrived, after what earlier reads left unconsumed: `fn` gets them all and returns
 * how many it used; the rest is kept and comes first next time (a partial message, a
 * "sticky packet"). Bytes from this read are where the kernel put them; with a leftover
 * they are copied behind it. Past `maxPendingBytes` kept, the connection closes.
 */
export function onRead(fn: (conn: Conn, data: usize, length: u32) => u32): void {
  store<u32>(STREAM, changetype<u32>(fn), S_ON_READ);
  coreOnData(readData);
}

/** onRead: the most unconsumed input kept for a connection (default 1 MiB). */
export function maxPendingBytes(bytes: u32): void {
  store<u32>(STREAM, bytes, S_MAX_PENDING);
}

@inline function isOpen(conn: Conn): bool {
  return (flags(conn) & (F_OPEN | F_CLOSING)) == F_OPEN;
}

function readData(conn: Conn, data: usize, length: u32): void {
  const hook = changetype<(conn: u32, data: usize, length: u32) => u32>(load<u32>(STREAM, S_ON_READ));
  let buf = pendingInput(conn);
  if (buf != 0) {
    buf = bufAppend(buf, data, length);
    setPendingInput(conn, buf);
    data = bufData(buf);
    length = bufLength(buf);
  }
  const used = min<u32>(hook(conn, data, length), length);
  if (!isOpen(conn)) return; // the hook closed it: what was kept is gone or going
  const limit = load<u32>(STREAM, S_MAX_PENDING);
  if (length - used > (limit == 0 ? DEFAULT_MAX_PENDING : limit)) {
    closeNow(conn);
    return;
  }
  if (buf == 0) {
    if (used < length) setPendingInput(conn, bufAppend(0, data + used, length - used));
  } else if (used == length) {
    bufFree(buf);
    setPendingInput(conn, 0);
  } else {
    bufConsume(buf, used);
  }
}

/**
 * The connection's timer came due (setTimer). It fires once; set it again from the hook
 * for a periodic one. A closing connection's timer does not fire.
 */
export function onTimer(fn: (conn: Conn) => void): void {
  coreOnTimer(fn);
}

/**
 * Sets the connection's timer to fire `ms` from now on the module's clock (so it replays
 * exactly, and the simulator's virtual time drives it). A connection has one timer:
 * setting it again moves it. At most MAX_TIMER_MS (about 12 days).
 */
export function setTimer(conn: Conn, ms: u32): void {
  timerArm(conn, ms);
}

/** Disarms the connection's timer, if set (its close does this too). */
export function clearTimer(conn: Conn): void {
  timerCancel(conn);
}

export { MAX_TIMER_MS };

/** After every batch of events: work that is not tied to one input (keep it short). */
export function onTick(fn: () => void): void {
  coreOnTick(fn);
}

/** Queues `length` bytes at `data` for the connection; bytes outside the arena are copied. */
export function send(conn: Conn, data: usize, length: u32): void {
  coreSend(conn, data, length);
}

/** Queues a string, UTF-8 encoded (formatted in the reply arena when it has room). */
export function sendText(conn: Conn, text: string): void {
  const length = utf8Length(text);
  let at = reserveReply(length);
  const scratch = at == 0 ? allocBlock(length) : 0; // the reply arena is full this batch: send() copies
  if (at == 0) at = scratch;
  writeUtf8(at, text);
  coreSend(conn, at, length);
  if (scratch != 0) freeBlock(scratch, classOf(length));
}

/** Queues a number in decimal, formatted in the reply arena (nothing is allocated). */
export function sendNumber(conn: Conn, n: u64): void {
  const digits = numberLength(n);
  let at = reserveReply(digits);
  const scratch = at == 0 ? allocBlock(digits) : 0; // the reply arena is full this batch
  if (at == 0) at = scratch;
  writeNumber(at, n);
  coreSend(conn, at, digits);
  if (scratch != 0) freeBlock(scratch, classOf(digits));
}

/** Closes once everything queued so far has been sent (a graceful close). */
export function closeWhenFlushed(conn: Conn): void {
  coreCloseWhenFlushed(conn);
}

/** Closes at once: output not yet sent is dropped. */
export function closeNow(conn: Conn): void {
  coreCloseNow(conn);
}

/** Stops reading from the connection (its onData stops) until resumeReading(). */
export function pauseReading(conn: Conn): void {
  setFlag(conn, F_HOLD_IN);
  markDirty(conn);
}

export function resumeReading(conn: Conn): void {
  clearFlag(conn, F_HOLD_IN);
  markDirty(conn);
}

/**
 * The connection's own `bytes` bytes of memory: zeroed when first asked for, kept
 * between hooks, freed when the connection closes. Ask with the same size every time.
 */
export function connState(conn: Conn, bytes: u32): usize {
  return stateOf(conn, bytes);
}

/**
 * Frees a string or ArrayBuffer the handler allocated (the runtime has no garbage
 * collector: docs/HANDLERS.md). Nothing may use it afterwards.
 */
export function release<T>(object: T): void {
  __free(changetype<usize>(object) - OBJECT_HEADER_BYTES);
}

// The runtime's object header (runtime.ts): an object's pointer is its block's + 16.
const OBJECT_HEADER_BYTES: usize = 16;

/** The module's clock in ms (the host's, written before each dispatch; replays exactly). */
export function now(): u32 {
  return nowMs();
}

/** Where `byte` first is in [data, data + length) from `from`, or -1. */
export function indexOfByte(data: usize, length: u32, byte: u8, from: u32 = 0): i32 {
  for (let i = from; i < length; i++) {
    if (load<u8>(data + i) == byte) return <i32>i;
  }
  return -1;
}
