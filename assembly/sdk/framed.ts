// The framed level of the handler SDK: whole messages, however the bytes arrive. A
// message cut across reads is assembled in the connection's input buffer; messages that
// arrive whole (one or many in a read) are handed over where the kernel put them, so
// answering with send() of the same bytes copies nothing, and answers to neighbouring
// messages leave as one send.
//
//   export * from "wasm-reactor/assembly/door";
//   import { onLine } from "wasm-reactor/assembly/sdk/framed";
//   import { send } from "wasm-reactor/assembly/sdk/stream";
//
//   onLine((conn, line, length) => send(conn, line, length + 1));  // each line back, newline too
//
// Two framings, one per module: lines ending in "\n" (onLine), or messages after a
// big-endian length prefix of 1, 2 or 4 bytes (onLengthPrefixed). A message over the
// limit (maxMessageBytes, 64 KiB unless set) goes to onTooLong, which by default closes
// the connection; a message unfinished when the input ends is dropped.

import { bufAppend, bufData, bufFree, bufLength } from "../buffer";
import { F_CLOSING, F_OPEN, flags } from "../handles";
import { pendingInput, setPendingInput } from "./conn";
import { onData } from "../handler";
import { indexOfByte } from "./stream";
import { closeWhenFlushed } from "../output";

type MessageHook = (conn: u32, message: usize, length: u32) => void;

// The framing's settings and hooks, in linear memory (a checkpoint holds them; no globals).
const FRAMING = memory.data(20);
const F_LIMIT: usize = 0; // the largest message, in bytes
const F_PREFIX: usize = 4; // 0: lines; else the length prefix's size in bytes
const F_ON_MESSAGE: usize = 8; // the message hook (a function reference)
const F_ON_TOO_LONG: usize = 12; // the too-long hook, or 0: close
const NEWLINE: u8 = 0x0a;
const DEFAULT_LIMIT: u32 = 64 << 10;

@inline function limit(): u32 {
  const set = load<u32>(FRAMING, F_LIMIT);
  return set == 0 ? DEFAULT_LIMIT : set;
}

@inline function prefixBytes(): u32 {
  return load<u32>(FRAMING, F_PREFIX);
}

/**
 * Lines ending in "\n": `fn` gets each line without its newline (`line[length]` is the
 * newline, so send(conn, line, length + 1) answers with the whole line).
 */
export function onLine(fn: (conn: u32, line: usize, length: u32) => void): void {
  store<u32>(FRAMING, 0, F_PREFIX);
  store<u32>(FRAMING, changetype<u32>(fn), F_ON_MESSAGE);
  onData(framedData);
}

/** Messages after a big-endian length prefix of `prefixBytes` (1, 2 or 4) bytes; `fn` gets the message without it. */
export function onLengthPrefixed(prefixBytes: u32, fn: (conn: u32, message: usize, length: u32) => void): void {
  assert(prefixBytes == 1 || prefixBytes == 2 || prefixBytes == 4, "a length prefix has 1, 2 or 4 bytes");
  store<u32>(FRAMING, prefixBytes, F_PREFIX);
  store<u32>(FRAMING, changetype<u32>(fn), F_ON_MESSAGE);
  onData(framedData);
}

/** The largest message accepted, in bytes (a line's newline and a message's prefix not counted). */
export function maxMessageBytes(bytes: u32): void {
  store<u32>(FRAMING, bytes, F_LIMIT);
}

/**
 * A message over the limit: `fn` may answer (an error line, say); the connection closes
 * once that has gone, and its unread input is dropped. Without this hook it just closes.
 */
export function onTooLong(fn: (conn: u32) => void): void {
  store<u32>(FRAMING, changetype<u32>(fn), F_ON_TOO_LONG);
}

function deliver(conn: u32, message: usize, length: u32): void {
  changetype<MessageHook>(load<u32>(FRAMING, F_ON_MESSAGE))(conn, message, length);
}

function tooLong(conn: u32): void {
  bufFree(pendingInput(conn));
  setPendingInput(conn, 0);
  const hook = load<u32>(FRAMING, F_ON_TOO_LONG);
  if (hook != 0) changetype<(conn: u32) => void>(hook)(conn);
  closeWhenFlushed(conn);
}

/**
 * Where the message starting at `data` ends (its length with the framing: the newline
 * or the prefix), or 0 while it is unfinished, or -1 when it is over the limit.
 */
function frameEnd(data: usize, available: u32): i64 {
  const prefix = prefixBytes();
  if (prefix == 0) {
    const scan = min<u32>(available, limit() + 1);
    for (let i: u32 = 0; i < scan; i++) {
      if (load<u8>(data + i) == NEWLINE) return <i64>i + 1;
    }
    return scan > limit() ? -1 : 0;
  }
  if (available < prefix) return 0;
  let length: u32 = 0;
  for (let i: u32 = 0; i < prefix; i++) length = (length << 8) | load<u8>(data + i);
  if (length > limit()) return -1;
  return available - prefix >= length ? <i64>(prefix + length) : 0;
}

/** Hands over the message that starts at `data` and is `total` bytes with its framing. */
function handOver(conn: u32, data: usize, total: u32): void {
  const prefix = prefixBytes();
  if (prefix == 0) deliver(conn, data, total - 1);
  else deliver(conn, data + prefix, total - prefix);
}

function framedData(conn: u32, data: usize, length: u32): void {
  let at: u32 = 0;
  if (pendingInput(conn) != 0) {
    at = finishPending(conn, data, length);
    if (at > length) return; // over the limit: closed
  }
  // Whole messages in this read: from where the kernel put them.
  while (at < length && (flags(conn) & (F_OPEN | F_CLOSING)) == F_OPEN) {
    const end = frameEnd(data + at, length - at);
    if (end < 0) return tooLong(conn);
    if (end == 0) {
      setPendingInput(conn, bufAppend(0, data + at, length - at)); // the start of the next one
      return;
    }
    handOver(conn, data + at, <u32>end);
    at += <u32>end;
  }
}

/**
 * Adds this read to the message an earlier read began, and hands it over once whole.
 * Returns how many bytes of the read it took (more than `length`: it was over the limit).
 */
function finishPending(conn: u32, data: usize, length: u32): u32 {
  let pending = pendingInput(conn);
  let at: u32 = 0;
  do {
    // A line takes up to its newline; a prefixed message exactly what it misses.
    const lines = prefixBytes() == 0;
    const newline = lines ? indexOfByte(data + at, length - at, NEWLINE, 0) : -1;
    const take = lines ? (newline < 0 ? length - at : <u32>newline + 1) : min<u32>(length - at, missingBytes(pending));
    pending = bufAppend(pending, data + at, take);
    setPendingInput(conn, pending);
    at += take;
    // A line is whole when this read held its newline (no need to scan the start again).
    const size = bufLength(pending);
    const end: i64 = !lines ? frameEnd(bufData(pending), size)
      : size - (newline < 0 ? 0 : 1) > limit() ? -1 : newline < 0 ? 0 : <i64>size;
    if (end < 0) {
      tooLong(conn);
      return length + 1;
    }
    if (end > 0) {
      handOver(conn, bufData(pending), <u32>end);
      bufFree(pendingInput(conn)); // (0 if the hook closed the connection: it is freed already)
      setPendingInput(conn, 0);
      return at;
    }
  } while (at < length);
  return at;
}

/** How many more bytes a partial message in `pending` needs at least (1 while a line has no newline). */
function missingBytes(pending: usize): u32 {
  const prefix = prefixBytes();
  const have = bufLength(pending);
  if (prefix == 0) return 1;
  if (have < prefix) return prefix - have;
  let length: u32 = 0;
  for (let i: u32 = 0; i < prefix; i++) length = (length << 8) | load<u8>(bufData(pending) + i);
  return prefix + length - have;
}
