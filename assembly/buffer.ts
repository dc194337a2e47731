// A byte buffer for leftovers: the tail of a partial packet, or output the socket
// has not taken yet. Allocated only when needed, so an idle connection owns none.
//
//   +--------+--------+--------+--------+------------------------------------------+
//   | class  | start  |  end   |  (pad) | consumed ... | readable ... | writable ... |
//   +--------+--------+--------+--------+------------------------------------------+
//   0        4        8        12       16             start          end      block end
//
// start/end are offsets into the data area; readable bytes are [start, end).

import { allocBlock, classBytes, classOf, freeBlock } from "./alloc";

const B_CLASS: u32 = 0;
const B_START: u32 = 4;
const B_END: u32 = 8;
const DATA: usize = 16;

@inline export function bufData(buf: usize): usize {
  return buf + DATA + load<u32>(buf, B_START);
}

@inline export function bufLength(buf: usize): u32 {
  return buf == 0 ? 0 : load<u32>(buf, B_END) - load<u32>(buf, B_START);
}

@inline function capacity(buf: usize): u32 {
  return <u32>(classBytes(load<u32>(buf, B_CLASS)) - DATA);
}

function create(minBytes: usize): usize {
  const cls = classOf(minBytes + DATA);
  const buf = allocBlock(minBytes + DATA);
  store<u32>(buf, cls, B_CLASS);
  store<u32>(buf, 0, B_START);
  store<u32>(buf, 0, B_END);
  return buf;
}

/** A buffer holding `len` zero bytes (a handler's per-connection state). */
export function bufZeroed(len: u32): usize {
  const buf = create(len);
  memory.fill(buf + DATA, 0, len);
  store<u32>(buf, len, B_END);
  return buf;
}

/** Appends len bytes at src; returns the buffer, which may have moved (buf may be 0). */
export function bufAppend(buf: usize, src: usize, len: u32): usize {
  if (buf == 0) buf = create(len);
  let start = load<u32>(buf, B_START);
  let end = load<u32>(buf, B_END);
  const used = end - start;
  if (end + len > capacity(buf)) {
    if (used + len <= capacity(buf) >> 1) {
      // Plenty of room once the consumed prefix is dropped: slide down.
      memory.copy(buf + DATA, buf + DATA + start, used);
    } else {
      const bigger = create(<usize>(used + len) << 1);
      memory.copy(bigger + DATA, buf + DATA + start, used);
      bufFree(buf);
      buf = bigger;
    }
    start = 0;
    end = used;
    store<u32>(buf, 0, B_START);
  }
  memory.copy(buf + DATA + end, src, len);
  store<u32>(buf, end + len, B_END);
  return buf;
}

/** Drops n readable bytes from the front. */
export function bufConsume(buf: usize, n: u32): void {
  const start = load<u32>(buf, B_START) + n;
  assert(start <= load<u32>(buf, B_END), "consumed past the end of a buffer");
  store<u32>(buf, start, B_START);
}

/** Drops n readable bytes from the back. */
export function bufDropLast(buf: usize, n: u32): void {
  const end = load<u32>(buf, B_END) - n;
  assert(end >= load<u32>(buf, B_START), "dropped past the start of a buffer");
  store<u32>(buf, end, B_END);
}

export function bufFree(buf: usize): void {
  if (buf != 0) freeBlock(buf, load<u32>(buf, B_CLASS));
}
