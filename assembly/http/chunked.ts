// The chunked request body (RFC 9112 §7.1) as a state machine that can stop and
// resume at any byte:
//
//   SIZE ─hex─► SIZE ─;/ws─► EXT ─CR─► SIZE_LF ─LF─► DATA (size bytes) ─► DATA_CR ─► DATA_LF ─► SIZE
//     size 0 ─► TRAILER (lines until an empty one) ─► done
//
// Data bytes are handed to the caller as runs; extension and trailer bytes count
// against the header limit (431), the body against the body limit (413).

import { CR, HT, LF, SP } from "./bytes";
import { bodyTotal, chunkState, remaining, setBodyTotal, setChunkState, setRemaining, setSideBytes, sideBytes } from "./conn";

const SIZE: u8 = 0; // reading hex digits (none yet when remaining == 0 and no digit seen)
const SIZE_MORE: u8 = 1; // at least one digit read
const EXT: u8 = 2; // after the size: whitespace and extensions up to the line end
const SIZE_LF: u8 = 3;
const DATA: u8 = 4;
const DATA_CR: u8 = 5;
const DATA_LF: u8 = 6;
const TRAILER_LINE_START: u8 = 7;
const TRAILER_LINE: u8 = 8;
const TRAILER_LF: u8 = 9; // CR at the start of a line: the end, once LF follows
const LAST_SIZE_LF: u8 = 10; // the size line of the last chunk, before its LF

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
        s = remaining(k) == 0 ? LAST_SIZE_LF : SIZE_LF;
      } else if (c == LF) {
        s = startData(k);
      } else if (c == 0x3b || c == SP || c == HT) {
        s = EXT;
      } else {
        return 400;
      }
    } else if (s == EXT) {
      if (c == LF) s = startData(k);
      else if (c == CR) s = remaining(k) == 0 ? LAST_SIZE_LF : SIZE_LF;
      else if (!countSide(k, maxSide)) return 431;
      else if (c < SP && c != HT) return 400;
    } else if (s == SIZE_LF || s == LAST_SIZE_LF) {
      if (c != LF) return 400;
      s = startData(k);
    } else if (s == DATA_CR) {
      if (c == CR) s = DATA_LF;
      else if (c == LF) s = SIZE;
      else return 400;
    } else if (s == DATA_LF) {
      if (c != LF) return 400;
      s = SIZE;
    } else if (s == TRAILER_LINE_START) {
      if (c == LF) return done(k, i);
      s = c == CR ? TRAILER_LF : TRAILER_LINE;
      if (!countSide(k, maxSide)) return 431;
    } else if (s == TRAILER_LINE) {
      if (c == LF) s = TRAILER_LINE_START;
      else if (!countSide(k, maxSide)) return 431;
    } else if (s == TRAILER_LF) {
      if (c != LF) return 400;
      return done(k, i);
    }
  }
  setChunkState(k, s);
  return result(len, CHUNKED_MORE, 0, 0);
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
