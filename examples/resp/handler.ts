// A Redis-protocol (RESP2) key-value server, as a wasm-reactor handler on the SDK's
// stream level: commands are parsed where the kernel put them (a command cut across
// reads waits for the rest: onRead keeps what it did not consume), pipelined commands
// are answered in order, keys expire on the module's clock. Its state lives in the
// module instance: with threads, each sub-reactor has its own store.
//
//   npx wasm-reactor build examples/resp/handler.ts -o resp.wasm
//   npx wasm-reactor serve --module resp.wasm --port 6380
//   redis-cli -p 6380 set greeting hello
export * from "wasm-reactor/assembly/door";
import { closeWhenFlushed, maxPendingBytes, now, onRead, send, sendNumber, sendText } from "wasm-reactor/assembly/sdk/stream";
import { clear, count, get, getEntry, remove, set, ttlOf, valueLength, valuePtr, expireAt, NO_EXPIRY } from "./store";
import { argCount, argLength, argPtr, argEquals, parseCommand, INCOMPLETE, PROTOCOL_ERROR, protocolError } from "./parse";

function ok(conn: u32): void {
  sendText(conn, "+OK\r\n");
}

function integer(conn: u32, n: i64): void {
  sendText(conn, n < 0 ? ":-" : ":");
  sendNumber(conn, <u64>(n < 0 ? -n : n));
  sendText(conn, "\r\n");
}

function bulk(conn: u32, ptr: usize, length: u32): void {
  sendText(conn, "$");
  sendNumber(conn, length);
  sendText(conn, "\r\n");
  send(conn, ptr, length);
  sendText(conn, "\r\n");
}

function nil(conn: u32): void {
  sendText(conn, "$-1\r\n");
}

function error(conn: u32, message: string): void {
  sendText(conn, "-ERR ");
  sendText(conn, message);
  sendText(conn, "\r\n");
}

function wrongArity(conn: u32): void {
  sendText(conn, "-ERR wrong number of arguments for '");
  send(conn, argPtr(0), argLength(0));
  sendText(conn, "' command\r\n");
}

// Integers parsed from arguments and values land here (memory, not a global: linear
// memory is the module's whole state, which is what checkpoints copy).
const PARSED = memory.data(8);

/** Parses the decimal i64 at [p, p + n) into PARSED; false if it is not one. */
function parseI64(p: usize, n: u32): bool {
  if (n == 0 || n > 20) return false;
  const negative = load<u8>(p) == 0x2d && n > 1;
  let value: i64 = 0;
  for (let k: u32 = negative ? 1 : 0; k < n; k++) {
    const c = load<u8>(p + k);
    if (c < 0x30 || c > 0x39) return false;
    value = value * 10 + (c - 0x30);
  }
  store<i64>(PARSED, negative ? -value : value);
  return true;
}

@inline function parsed(): i64 {
  return load<i64>(PARSED);
}

/** Runs the parsed command; false when the connection is to close (QUIT). */
function execute(conn: u32): bool {
  const n = argCount();
  if (argEquals(0, "PING")) {
    if (n == 1) sendText(conn, "+PONG\r\n");
    else if (n == 2) bulk(conn, argPtr(1), argLength(1));
    else wrongArity(conn);
  } else if (argEquals(0, "ECHO")) {
    if (n == 2) bulk(conn, argPtr(1), argLength(1));
    else wrongArity(conn);
  } else if (argEquals(0, "GET")) {
    if (n != 2) return arity(conn);
    const e = get(argPtr(1), argLength(1));
    if (e == 0) nil(conn);
    else bulk(conn, valuePtr(e), valueLength(e));
  } else if (argEquals(0, "SET")) {
    setCommand(conn, n);
  } else if (argEquals(0, "DEL") || argEquals(0, "EXISTS")) {
    if (n < 2) return arity(conn);
    const del = argEquals(0, "DEL");
    let found: i64 = 0;
    for (let i: u32 = 1; i < n; i++) {
      if (del ? remove(argPtr(i), argLength(i)) : get(argPtr(i), argLength(i)) != 0) found++;
    }
    integer(conn, found);
  } else if (argEquals(0, "INCR") || argEquals(0, "DECR")) {
    if (n != 2) return arity(conn);
    add(conn, argEquals(0, "INCR") ? 1 : -1);
  } else if (argEquals(0, "INCRBY") || argEquals(0, "DECRBY")) {
    if (n != 3) return arity(conn);
    if (!parseI64(argPtr(2), argLength(2))) error(conn, "value is not an integer or out of range");
    else add(conn, argEquals(0, "INCRBY") ? parsed() : -parsed());
  } else if (argEquals(0, "MGET")) {
    if (n < 2) return arity(conn);
    sendText(conn, "*");
    sendNumber(conn, n - 1);
    sendText(conn, "\r\n");
    for (let i: u32 = 1; i < n; i++) {
      const e = get(argPtr(i), argLength(i));
      if (e == 0) nil(conn);
      else bulk(conn, valuePtr(e), valueLength(e));
    }
  } else if (argEquals(0, "MSET")) {
    if (n < 3 || n % 2 == 0) return arity(conn);
    for (let i: u32 = 1; i < n; i += 2) set(argPtr(i), argLength(i), argPtr(i + 1), argLength(i + 1), NO_EXPIRY);
    ok(conn);
  } else if (argEquals(0, "EXPIRE") || argEquals(0, "PEXPIRE")) {
    if (n != 3) return arity(conn);
    if (!parseI64(argPtr(2), argLength(2))) return errorReply(conn, "value is not an integer or out of range");
    const amount = parsed();
    const e = getEntry(argPtr(1), argLength(1));
    if (e == 0) integer(conn, 0);
    else if (amount <= 0) integer(conn, remove(argPtr(1), argLength(1)) ? 1 : 0);
    else {
      expireAt(e, deadline(argEquals(0, "EXPIRE") ? amount * 1000 : amount));
      integer(conn, 1);
    }
  } else if (argEquals(0, "TTL") || argEquals(0, "PTTL")) {
    if (n != 2) return arity(conn);
    const ms = ttlOf(argPtr(1), argLength(1));
    integer(conn, ms < 0 || argEquals(0, "PTTL") ? ms : (ms + 999) / 1000);
  } else if (argEquals(0, "DBSIZE")) {
    integer(conn, count());
  } else if (argEquals(0, "FLUSHALL") || argEquals(0, "FLUSHDB")) {
    clear();
    ok(conn);
  } else if (argEquals(0, "CONFIG") || argEquals(0, "COMMAND")) {
    sendText(conn, "*0\r\n"); // no configuration to show (redis-benchmark and redis-cli ask)
  } else if (argEquals(0, "QUIT")) {
    ok(conn);
    closeWhenFlushed(conn);
    return false;
  } else {
    sendText(conn, "-ERR unknown command '");
    send(conn, argPtr(0), min<u32>(argLength(0), 128));
    sendText(conn, "'\r\n");
  }
  return true;
}

function arity(conn: u32): bool {
  wrongArity(conn);
  return true;
}

function errorReply(conn: u32, message: string): bool {
  error(conn, message);
  return true;
}

// The longest expiry the module's 32-bit millisecond clock can tell apart: 24 days.
const MAX_TTL_MS: i64 = 0x7fffffff;

function deadline(ms: i64): u32 {
  return now() + <u32>min<i64>(ms, MAX_TTL_MS);
}

function setCommand(conn: u32, n: u32): void {
  if (n < 3) {
    wrongArity(conn);
    return;
  }
  let expiry: u32 = NO_EXPIRY;
  let nx = false;
  let xx = false;
  for (let i: u32 = 3; i < n; i++) {
    if (argEquals(i, "NX")) nx = true;
    else if (argEquals(i, "XX")) xx = true;
    else if ((argEquals(i, "EX") || argEquals(i, "PX")) && i + 1 < n) {
      const valid = parseI64(argPtr(i + 1), argLength(i + 1));
      const amount = parsed();
      if (!valid || amount <= 0) {
        error(conn, "invalid expire time in 'set' command");
        return;
      }
      expiry = deadline(argEquals(i, "EX") ? amount * 1000 : amount);
      i++;
    } else {
      sendText(conn, "-ERR syntax error\r\n");
      return;
    }
  }
  const exists = get(argPtr(1), argLength(1)) != 0;
  if ((nx && exists) || (xx && !exists)) {
    nil(conn);
    return;
  }
  set(argPtr(1), argLength(1), argPtr(2), argLength(2), expiry);
  ok(conn);
}

// INCR and friends: the value as a decimal i64, changed by `by`, stored back as text.
const DIGITS = memory.data(24);

function add(conn: u32, by: i64): void {
  const e = get(argPtr(1), argLength(1));
  let value: i64 = 0;
  if (e != 0) {
    if (!parseI64(valuePtr(e), valueLength(e))) {
      error(conn, "value is not an integer or out of range");
      return;
    }
    value = parsed();
  }
  value += by;
  const negative = value < 0;
  let magnitude = <u64>(negative ? -value : value);
  let at: u32 = 24;
  do {
    store<u8>(DIGITS + --at, <u8>(0x30 + magnitude % 10));
    magnitude /= 10;
  } while (magnitude != 0);
  if (negative) store<u8>(DIGITS + --at, 0x2d);
  set(argPtr(1), argLength(1), DIGITS + at, 24 - at, e == 0 ? NO_EXPIRY : keptExpiry(e));
  integer(conn, value);
}

function keptExpiry(e: usize): u32 {
  const ms = ttlOf(argPtr(1), argLength(1));
  return ms < 0 ? NO_EXPIRY : now() + <u32>ms;
}

// The hooks, registered last: they use everything above.
maxPendingBytes(64 << 20); // a command (a SET of a large value) may be this big

onRead((conn: u32, data: usize, length: u32): u32 => {
  let at: u32 = 0;
  while (at < length) {
    const used = parseCommand(data + at, length - at);
    if (used == INCOMPLETE) break;
    if (used == PROTOCOL_ERROR) {
      sendText(conn, "-ERR Protocol error: ");
      sendText(conn, protocolError());
      sendText(conn, "\r\n");
      closeWhenFlushed(conn);
      return length;
    }
    at += used;
    if (argCount() > 0 && !execute(conn)) return length; // QUIT
  }
  return at;
});
