// RESP2 requests: an array of bulk strings ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", what
// clients send) or an inline command ("PING\r\n", what a person types into telnet).
// A command is parsed where it lies; its arguments are pointers into those bytes, valid
// until the read hook returns.

// The arguments of the last command parsed: { ptr u32, length u32 } each.
const MAX_ARGS: u32 = 1024 * 1024;
const ARGS_INITIAL: u32 = 64;
// [count u32, big table capacity u32, big table ptr u32, error message ptr u32]: up to
// ARGS_INITIAL arguments go into ARGS_INLINE, more into a table kept for the next command.
const STATE = memory.data(16);
const ARGS_INLINE = memory.data(ARGS_INITIAL * 8);

export const INCOMPLETE: u32 = 0;
export const PROTOCOL_ERROR: u32 = 0xffffffff;
const CR: u8 = 0x0d;
const LF: u8 = 0x0a;
const MAX_BULK: u32 = 512 << 20;

@inline function table(): usize {
  return argCount() > ARGS_INITIAL ? <usize>load<u32>(STATE, 8) : ARGS_INLINE;
}

export function argCount(): u32 {
  return load<u32>(STATE, 0);
}

export function argPtr(i: u32): usize {
  return <usize>load<u32>(table() + <usize>i * 8);
}

export function argLength(i: u32): u32 {
  return load<u32>(table() + <usize>i * 8, 4);
}

/** Whether argument i is `word`, ignoring ASCII case (command names and options). */
export function argEquals(i: u32, word: string): bool {
  const n = argLength(i);
  if (i >= argCount() || n != <u32>word.length) return false;
  const p = argPtr(i);
  for (let k: u32 = 0; k < n; k++) {
    let c = load<u8>(p + k);
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (<i32>c != word.charCodeAt(k)) return false;
  }
  return true;
}

/** The last protocol error, in words. */
export function protocolError(): string {
  return changetype<string>(<usize>load<u32>(STATE, 12));
}

function fail(message: string): u32 {
  store<u32>(STATE, changetype<u32>(message), 12);
  return PROTOCOL_ERROR;
}

/** Room for n arguments; then argCount() is n. */
function reserveArgs(n: u32): void {
  if (n > ARGS_INITIAL && n > load<u32>(STATE, 4)) {
    // A command with many arguments (MSET, DEL …): a table of its size, kept for the next.
    const old = <usize>load<u32>(STATE, 8);
    if (old != 0) heap.free(old);
    store<u32>(STATE, <u32>heap.alloc(<usize>n * 8), 8);
    store<u32>(STATE, n, 4);
  }
  store<u32>(STATE, n, 0);
}

function setArg(i: u32, ptr: usize, length: u32): void {
  const t = table();
  store<u32>(t + <usize>i * 8, <u32>ptr);
  store<u32>(t + <usize>i * 8, length, 4);
}

/** Reads a decimal number ending in CRLF at p; its value, and the bytes read in `used` (0: incomplete, -1: bad). */
function readNumber(p: usize, available: u32): i64 {
  let value: i64 = 0;
  let i: u32 = 0;
  const negative = available > 0 && load<u8>(p) == 0x2d;
  if (negative) i = 1;
  for (; i < available; i++) {
    const c = load<u8>(p + i);
    if (c == CR) {
      if (i + 1 >= available) break;
      if (load<u8>(p + i + 1) != LF || i == (negative ? 1 : 0)) return -2;
      store<u32>(NUMBER_USED, i + 2);
      return negative ? -value : value;
    }
    if (c < 0x30 || c > 0x39 || i > 18) return -2;
    value = value * 10 + (c - 0x30);
  }
  store<u32>(NUMBER_USED, 0);
  return 0;
}
const NUMBER_USED = memory.data(4);

/**
 * Parses one command at p: the bytes it took, INCOMPLETE when more must arrive, or
 * PROTOCOL_ERROR (protocolError() says why). An empty line counts as a command of no
 * arguments (argCount() 0).
 */
export function parseCommand(p: usize, available: u32): u32 {
  if (load<u8>(p) != 0x2a) return parseInline(p, available); // not "*"
  let at: u32 = 1;
  const count = readNumber(p + at, available - at);
  if (count == -2 || count > <i64>MAX_ARGS) return fail("invalid multibulk length");
  const used = load<u32>(NUMBER_USED);
  if (used == 0) return INCOMPLETE;
  at += used;
  const n = <u32>max<i64>(count, 0);
  reserveArgs(n);
  for (let i: u32 = 0; i < n; i++) {
    if (at >= available) return INCOMPLETE;
    if (load<u8>(p + at) != 0x24) return fail("expected '$'"); // "$"
    at++;
    const length = readNumber(p + at, available - at);
    if (length == -2 || length < 0 || length > <i64>MAX_BULK) return fail("invalid bulk length");
    const lengthUsed = load<u32>(NUMBER_USED);
    if (lengthUsed == 0) return INCOMPLETE;
    at += lengthUsed;
    const bytes = <u32>length;
    if (<u64>at + bytes + 2 > <u64>available) return INCOMPLETE;
    if (load<u8>(p + at + bytes) != CR || load<u8>(p + at + bytes + 1) != LF) return fail("bulk string not ended by CRLF");
    setArg(i, p + at, bytes);
    at += bytes + 2;
  }
  return at;
}

/** An inline command: words separated by spaces, ending in LF (or CRLF). */
function parseInline(p: usize, available: u32): u32 {
  let end: u32 = 0;
  while (end < available && load<u8>(p + end) != LF) end++;
  if (end == available) return available > 64 * 1024 ? fail("too big inline request") : INCOMPLETE;
  const lineEnd = end > 0 && load<u8>(p + end - 1) == CR ? end - 1 : end;
  let n: u32 = 0;
  for (let i: u32 = 0; i < lineEnd;) {
    while (i < lineEnd && load<u8>(p + i) == 0x20) i++;
    if (i == lineEnd) break;
    const start = i;
    while (i < lineEnd && load<u8>(p + i) != 0x20) i++;
    if (n == ARGS_INITIAL) return fail("too many arguments in an inline request");
    store<u32>(ARGS_INLINE + <usize>n * 8, <u32>(p + start));
    store<u32>(ARGS_INLINE + <usize>n * 8, i - start, 4);
    n++;
  }
  store<u32>(STATE, n, 0);
  return end + 1;
}
