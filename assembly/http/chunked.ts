// The chunked request body (RFC 9112 §7.1) as a state machine that can stop and
// resume at any byte, as strict as llhttp's strict mode:
//
//   SIZE ─hex─► SIZE_MORE ─CR─► SIZE_LF ─LF─► DATA (size bytes) ─CR─► DATA_LF ─LF─► SIZE
//                  └─ *( BWS ; BWS ext-name [ BWS = BWS token / "quoted" ] ) ─CR─┘
//     size 0 ─► TRAILER (field lines, each ending CRLF, until an empty one) ─► done
//
// Every line ends with CRLF: a bare LF after a size line, a chunk's data or a trailer
// line is 400, because a lenient peer in front could read the request's end elsewhere
// (request smuggling). So is junk after the size, a lone ';' and an unclosed quote.
// Data bytes are handed to the caller as runs; extension and trailer bytes count
// against the header limit (431), the body against the body limit (413).

import { CR, HT, LF, SP, isTokenChar } from "./bytes";
import { bodyTotal, chunkState, remaining, setBodyTotal, setChunkState, setRemaining, setSideBytes, sideBytes } from "./conn";

const SIZE: u8 = 0; // the first hex digit of a size
const SIZE_MORE: u8 = 1; // at least one digit read
const EXT_WS: u8 = 2; // whitespace after the size or an extension: a ';' must follow (BWS belongs to the next extension)
const SIZE_LF: u8 = 3;
const DATA: u8 = 4;
const DATA_CR: u8 = 5;
const DATA_LF: u8 = 6;
const TRAILER_LINE_START: u8 = 7;
const TRAILER_LINE: u8 = 8;
const TRAILER_LF: u8 = 9; // CR at the start of a line: the end, once LF follows
const LAST_SIZE_LF: u8 = 10; // the size line of the last chunk, before its LF
const EXT_NAME_START: u8 = 11; // after ';': whitespace, then a token
const EXT_NAME: u8 = 12;
const EXT_AFTER_NAME: u8 = 13; // whitespace after a name: '=', ';' or the line's end
const EXT_VALUE_START: u8 = 14; // after '=': whitespace, then a token or a quoted string
const EXT_TOKEN: u8 = 15;
const EXT_QUOTED: u8 = 16;
const EXT_QUOTED_ESCAPE: u8 = 17; // after a backslash in a quoted string
const EXT_AFTER_QUOTED: u8 = 18; // a quoted value closed: ';', whitespace then ';', or the line's end
const TRAILER_LINE_CR: u8 = 19; // a trailer line's CR, before its LF

const SEMICOLON: u32 = 0x3b;
const EQUALS: u32 = 0x3d;
const QUOTE: u32 = 0x22;
const BACKSLASH: u32 = 0x5c;

// The outcome of a feed, read through the accessors below.
const RESULT = memory.data(16); // consumed u32, status u32, data ptr u32, data len u32

export const CHUNKED_MORE: u32 = 0; // every byte consumed, the body goes on
export const CHUNKED_DONE: u32 = 1; // the body ended; consumed says where
export const CHUNKED_DATA: u32 = 2; // a run of body bytes: dataPtr/dataLen; call again after it

@inline export function consumed(): u32 { return load<u32>(RESULT, 0); }
@inline export function chunkedStatus(): u32 { return load<u32>(RESULT, 4); }
@inline export function dataPtr(): usize { return load<u32>(RESULT, 8); }
@inline export function dataLen(): u32 { return load<u32>(RESULT, 12); }

export function chunkedStart(k: usize): void {
  setChunkState(k, SIZE);
  setRemaining(k, 0);
  setSideBytes(k, 0);
}

function result(consumedBytes: u32, status: u32, ptr: usize, len: u32): u32 {
  store<u32>(RESULT, consumedBytes, 0);
  store<u32>(RESULT, status, 4);
  store<u32>(RESULT, <u32>ptr, 8);
  store<u32>(RESULT, len, 12);
  return 0;
}

@inline function hexValue(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  const l = c | 0x20;
  return l - 0x61 < 6 ? <i32>(l - 0x61 + 10) : -1;
}

/**
 * Feeds len bytes at p. Returns 0 and sets the result, or an HTTP status for a
 * malformed (400) or too large (413, 431) body.
 */
export function chunkedFeed(k: usize, p: usize, len: u32, maxBody: u32, maxSide: u32): u32 {
  let s = chunkState(k);
  let i: u32 = 0;
  while (i < len) {
    if (s == DATA) {
      const take = min(remaining(k), len - i);
      setRemaining(k, remaining(k) - take);
      if (remaining(k) == 0) s = DATA_CR;
      setChunkState(k, s);
      return result(i + take, CHUNKED_DATA, p + i, take);
    }
    const c = <u32>load<u8>(p + i++);
    if (s == SIZE || s == SIZE_MORE) {
      const h = hexValue(c);
      if (h >= 0) {
        const size = (<u64>remaining(k) << 4) | <u64>h;
        if (size + bodyTotal(k) > maxBody) return 413;
        setRemaining(k, <u32>size);
        s = SIZE_MORE;
      } else if (s == SIZE) {
        return 400;
      } else if (c == CR) {
        s = lineEnd(k);
      } else if (c == SP || c == HT) {
        s = EXT_WS;
      } else if (c == SEMICOLON) {
        s = EXT_NAME_START;
      } else {
        return 400; // junk after the size, or a bare LF
      }
    } else if (s == EXT_WS || (s >= EXT_NAME_START && s <= EXT_AFTER_QUOTED)) {
      if (!countSide(k, maxSide)) return 431;
      s = extension(k, s, c);
      if (s == BAD) return 400;
    } else if (s == SIZE_LF || s == LAST_SIZE_LF) {
      if (c != LF) return 400;
      s = startData(k);
    } else if (s == DATA_CR) {
      if (c != CR) return 400; // a chunk's data must end with CRLF
      s = DATA_LF;
    } else if (s == DATA_LF) {
      if (c != LF) return 400;
      s = SIZE;
    } else if (s == TRAILER_LINE_START) {
      if (c == CR) {
        s = TRAILER_LF;
      } else {
        if (c == LF || !countSide(k, maxSide)) return c == LF ? 400 : 431;
        s = TRAILER_LINE;
      }
    } else if (s == TRAILER_LINE) {
      if (c == LF) return 400;
      if (c == CR) s = TRAILER_LINE_CR;
      else if (!countSide(k, maxSide)) return 431;
    } else if (s == TRAILER_LINE_CR) {
      if (c != LF) return 400;
      s = TRAILER_LINE_START;
    } else if (s == TRAILER_LF) {
      if (c != LF) return 400;
      return done(k, i);
    }
  }
  setChunkState(k, s);
  return result(len, CHUNKED_MORE, 0, 0);
}

const BAD: u8 = 255;

/** The line's end (its CR): the last chunk's size line, or another's. */
function lineEnd(k: usize): u8 {
  return remaining(k) == 0 ? LAST_SIZE_LF : SIZE_LF;
}

/**
 * One byte of the extensions (RFC 9112 §7.1.1: *( BWS ";" BWS name [ BWS "=" BWS
 * ( token / quoted-string ) ] )), from state s; BAD if it breaks them.
 */
function extension(k: usize, s: u8, c: u32): u8 {
  const ws = c == SP || c == HT;
  if (s == EXT_QUOTED) {
    if (c == QUOTE) return EXT_AFTER_QUOTED;
    if (c == BACKSLASH) return EXT_QUOTED_ESCAPE;
    return c == HT || (c >= SP && c != 0x7f) ? EXT_QUOTED : BAD; // qdtext and obs-text
  }
  if (s == EXT_QUOTED_ESCAPE) return c == HT || (c >= SP && c != 0x7f) ? EXT_QUOTED : BAD;
  if (s == EXT_NAME_START) return ws ? s : isTokenChar(c) ? EXT_NAME : BAD;
  if (s == EXT_VALUE_START) return ws ? s : isTokenChar(c) ? EXT_TOKEN : c == QUOTE ? EXT_QUOTED : BAD;
  // EXT_WS, EXT_NAME, EXT_AFTER_NAME, EXT_TOKEN, EXT_AFTER_QUOTED: what may follow a
  // size, a name or a value. The line ends right after a name or a value, never after
  // whitespace: in RFC 9112's grammar whitespace only comes before ';' or '='.
  if ((s == EXT_NAME || s == EXT_TOKEN) && isTokenChar(c)) return s;
  if (ws) return s == EXT_NAME ? EXT_AFTER_NAME : s == EXT_AFTER_NAME ? s : EXT_WS;
  if (c == SEMICOLON) return EXT_NAME_START;
  if (c == CR) return s == EXT_NAME || s == EXT_TOKEN || s == EXT_AFTER_QUOTED ? lineEnd(k) : BAD;
  if (c == EQUALS && (s == EXT_NAME || s == EXT_AFTER_NAME)) return EXT_VALUE_START;
  return BAD;
}

/** After a size line: the chunk's data, or the trailer section after the last chunk. */
function startData(k: usize): u8 {
  if (remaining(k) == 0) return TRAILER_LINE_START;
  setBodyTotal(k, bodyTotal(k) + remaining(k));
  return DATA;
}

function countSide(k: usize, maxSide: u32): bool {
  setSideBytes(k, sideBytes(k) + 1);
  return sideBytes(k) <= maxSide;
}

function done(k: usize, i: u32): u32 {
  setChunkState(k, SIZE);
  return result(i, CHUNKED_DONE, 0, 0);
}
