// WebSocket frames (RFC 6455 §5) as a state machine resumable at any byte:
//
//   HEADER (2 bytes, then 2 or 8 of length and 4 of mask as the first two ask)
//     → PAYLOAD (unmasked in place, UTF-8 checked for text, collected per message)
//     → frame done: a control frame is answered (pong, close); a data frame with FIN ends a message
//
// Protocol errors close with their code: 1002 (reserved bits, unknown opcode, an
// unmasked client frame, a fragmented or long control frame, a continuation out of
// place), 1007 (invalid UTF-8 in text or a close reason), 1009 (message over the limit).

import { bufAppend, bufData, bufFree, bufLength } from "../buffer";
import { closeWhenFlushed, send } from "../output";
import { UTF8_ACCEPT, UTF8_REJECT, utf8Step } from "./utf8";
import {
  CLOSE_SENT, FS_HEADER, FS_PAYLOAD, W_CLOSE, W_CLOSE_CODE, W_CLOSE_PAYLOAD, W_CONTROL, W_FIN, W_HAVE, W_HEADER, W_LEFT, W_MASK, W_MASK_OFFSET,
  W_MESSAGE, W_MESSAGE_LEN, W_MESSAGE_OPCODE, W_NEED, W_OPCODE, W_STATE, W_UTF8,
} from "./state";

export const OP_CONTINUATION: u8 = 0;
export const OP_TEXT: u8 = 1;
export const OP_BINARY: u8 = 2;
export const OP_CLOSE: u8 = 8;
export const OP_PING: u8 = 9;
export const OP_PONG: u8 = 10;

export const CLOSE_NORMAL: u32 = 1000;
export const CLOSE_GOING_AWAY: u32 = 1001;
export const CLOSE_PROTOCOL: u32 = 1002;
export const CLOSE_INVALID_DATA: u32 = 1007;
export const CLOSE_TOO_BIG: u32 = 1009;
const CLOSE_NO_STATUS: u16 = 1005; // reported to JS only, never sent (§7.4.1)

const SCRATCH = memory.data(16);
const CLOSE_PAYLOAD = memory.data(128); // code (2 bytes) and a reason of at most 123

/**
 * What the protocol does with a whole message (ws-echo: send it back; ws: hand it to
 * JS), with a ping (opcode OP_PING) once its pong has gone out, or a pong. `headroom` bytes
 * before p are the client's spent frame header, free to overwrite.
 */
export type MessageSink = (slot: u32, opcode: u8, p: usize, len: u32, headroom: u32) => void;

/** A frame header for a server frame (never masked) of len bytes at dst; returns its size. */
export function writeFrameHeader(dst: usize, opcode: u8, len: u32): u32 {
  store<u8>(dst, 0x80 | opcode);
  if (len < 126) {
    store<u8>(dst + 1, <u8>len);
    return 2;
  }
  if (len < 65536) {
    store<u8>(dst + 1, 126);
    store<u16>(dst + 2, bswap<u16>(<u16>len));
    return 4;
  }
  store<u8>(dst + 1, 127);
  store<u64>(dst + 2, bswap<u64>(<u64>len));
  return 10;
}

@inline export function headerSize(len: u32): u32 {
  return len < 126 ? 2 : len < 65536 ? 4 : 10;
}

export function sendFrame(slot: u32, opcode: u8, p: usize, len: u32): void {
  send(slot, SCRATCH, writeFrameHeader(SCRATCH, opcode, len));
  send(slot, p, len);
}

/**
 * Sends a close frame with `code` and a reason (cut to the 123 bytes a control frame has
 * room for), unless one went already, and closes once it is out.
 */
export function closeWith(slot: u32, w: usize, code: u32, reason: usize = 0, reasonLen: u32 = 0): void {
  if (load<u16>(w, W_CLOSE_CODE) == 0) store<u16>(w, <u16>code, W_CLOSE_CODE);
  if ((load<u8>(w, W_CLOSE) & CLOSE_SENT) == 0) {
    const n = min<u32>(reasonLen, 123);
    store<u16>(CLOSE_PAYLOAD, bswap<u16>(<u16>code));
    memory.copy(CLOSE_PAYLOAD + 2, reason, n);
    sendFrame(slot, OP_CLOSE, CLOSE_PAYLOAD, 2 + n);
    store<u8>(w, load<u8>(w, W_CLOSE) | CLOSE_SENT, W_CLOSE);
  }
  closeWhenFlushed(slot);
}

@inline function unmask(w: usize, p: usize, len: u32): void {
  const key = load<u32>(w, W_MASK);
  let off = <u32>load<u8>(w, W_MASK_OFFSET);
  for (let i: u32 = 0; i < len; i++) {
    store<u8>(p + i, load<u8>(p + i) ^ <u8>(key >>> ((off & 3) << 3)));
    off++;
  }
  store<u8>(w, <u8>(off & 3), W_MASK_OFFSET);
}

/**
 * Feeds len bytes at p; returns 0, or the close code of a protocol error (the caller
 * closes). Bytes after a close are not looked at.
 */
export function wsFeed(slot: u32, w: usize, p: usize, len: u32, maxPayload: u32, sink: MessageSink): u32 {
  let pos: u32 = 0;
  while (pos < len) {
    if (load<u8>(w, W_STATE) == FS_HEADER) {
      const fromHere = load<u8>(w, W_HAVE) == 0; // the whole header is in this region, from pos on
      const headerStart = pos;
      while (pos < len && load<u8>(w, W_HAVE) < load<u8>(w, W_NEED)) {
        const have = load<u8>(w, W_HAVE);
        store<u8>(w + W_HEADER + have, load<u8>(p + pos++));
        store<u8>(w, have + 1, W_HAVE);
        if (have < 2) {
          // Judged byte by byte: a frame the first two bytes already condemn is refused
          // now, not after a length and mask that may never come.
          const early = have == 0 ? firstByteError(w) : secondByteError(w);
          if (early != 0) return early;
        }
        if (have + 1 == 2) store<u8>(w, <u8>(2 + extraLength(load<u8>(w, W_HEADER + 1)) + 4), W_NEED);
      }
      if (load<u8>(w, W_HAVE) < load<u8>(w, W_NEED)) return 0;
      const code = startFrame(w, maxPayload);
      if (code != 0) return code;
      const left = load<u32>(w, W_LEFT);
      // The fast path: a whole unfragmented data frame in this read is unmasked in place
      // and handed on where it lies, with its spent header as headroom (ws-echo writes the
      // reply's header there: one send, no copy).
      if (fromHere && left <= len - pos && load<u8>(w, W_FIN) != 0 && load<u8>(w, W_OPCODE) != OP_CONTINUATION
        && load<u8>(w, W_OPCODE) < OP_CLOSE) {
        unmask(w, p + pos, left);
        if (load<u8>(w, W_OPCODE) == OP_TEXT && utf8Step(UTF8_ACCEPT, p + pos, left) != UTF8_ACCEPT) return CLOSE_INVALID_DATA;
        assert(headerStart + headerSize(left) <= pos, "a reply header is never longer than the client's");
        sink(slot, load<u8>(w, W_OPCODE), p + pos, left, pos - headerStart);
        pos += left;
        resetHeader(w);
        endMessage(w);
        continue;
      }
      store<u8>(w, FS_PAYLOAD, W_STATE);
      if (left == 0) {
        const c = endFrame(slot, w, sink);
        if (c != 0) return c;
      }
      continue;
    }
    const take = min(load<u32>(w, W_LEFT), len - pos);
    const c = payload(w, p + pos, take);
    if (c != 0) return c;
    pos += take;
    store<u32>(w, load<u32>(w, W_LEFT) - take, W_LEFT);
    if (load<u32>(w, W_LEFT) == 0) {
      const e = endFrame(slot, w, sink);
      if (e != 0) return e;
      if ((load<u8>(w, W_CLOSE) & CLOSE_SENT) != 0) return 0;
    }
  }
  return 0;
}

@inline function extraLength(second: u8): u32 {
  const len7 = second & 0x7f;
  return len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
}

function resetHeader(w: usize): void {
  store<u8>(w, FS_HEADER, W_STATE);
  store<u8>(w, 0, W_HAVE);
  store<u8>(w, 2, W_NEED);
  store<u8>(w, 0, W_MASK_OFFSET);
}

/** What the first byte alone shows: reserved bits, a reserved opcode, a fragmented control frame, a continuation out of place. */
function firstByteError(w: usize): u32 {
  const b0 = load<u8>(w, W_HEADER);
  const opcode = b0 & 0x0f;
  if ((b0 & 0x70) != 0) return CLOSE_PROTOCOL; // reserved bits, and we negotiate no extension
  if ((opcode > OP_BINARY && opcode < OP_CLOSE) || opcode > OP_PONG) return CLOSE_PROTOCOL;
  if (opcode >= OP_CLOSE) return (b0 & 0x80) == 0 ? CLOSE_PROTOCOL : 0; // control frames are whole (§5.5)
  const inMessage = load<u8>(w, W_MESSAGE_OPCODE) != 0;
  return (opcode == OP_CONTINUATION) != inMessage ? CLOSE_PROTOCOL : 0;
}

/** What the second byte shows: an unmasked client frame, a control frame over 125 bytes. */
function secondByteError(w: usize): u32 {
  const b1 = load<u8>(w, W_HEADER + 1);
  if ((b1 & 0x80) == 0) return CLOSE_PROTOCOL; // clients must mask (§5.1)
  const opcode = load<u8>(w, W_HEADER) & 0x0f;
  return opcode >= OP_CLOSE && (b1 & 0x7f) > 125 ? CLOSE_PROTOCOL : 0;
}

/** The header is complete (its first two bytes already judged): set up the payload; returns a close code or 0. */
function startFrame(w: usize, maxPayload: u32): u32 {
  const b0 = load<u8>(w, W_HEADER);
  const b1 = load<u8>(w, W_HEADER + 1);
  const opcode = b0 & 0x0f;
  const fin = (b0 & 0x80) != 0;
  const ext = extraLength(b1);
  let len: u64 = b1 & 0x7f;
  if (ext == 2) len = bswap<u16>(load<u16>(w + W_HEADER + 2));
  else if (ext == 8) len = bswap<u64>(load<u64>(w + W_HEADER + 2));
  if (len >> 63 != 0) return CLOSE_PROTOCOL;
  store<u32>(w, load<u32>(w + W_HEADER + 2 + ext), W_MASK);
  store<u8>(w, 0, W_MASK_OFFSET);
  store<u8>(w, opcode, W_OPCODE);
  store<u8>(w, fin ? 1 : 0, W_FIN);
  if (opcode < OP_CLOSE) {
    const inMessage = load<u8>(w, W_MESSAGE_OPCODE) != 0;
    if (<u64>load<u32>(w, W_MESSAGE_LEN) + len > <u64>maxPayload) return CLOSE_TOO_BIG;
    if (!inMessage) {
      store<u8>(w, opcode, W_MESSAGE_OPCODE);
      store<u32>(w, UTF8_ACCEPT, W_UTF8);
    }
    store<u32>(w, load<u32>(w, W_MESSAGE_LEN) + <u32>len, W_MESSAGE_LEN);
  }
  store<u32>(w, <u32>len, W_LEFT);
  return 0;
}

/** Payload bytes of the current frame, not the fast path: unmask, check, collect. */
function payload(w: usize, p: usize, len: u32): u32 {
  unmask(w, p, len);
  if (load<u8>(w, W_OPCODE) >= OP_CLOSE) {
    store<u32>(w, <u32>bufAppend(load<u32>(w, W_CONTROL), p, len), W_CONTROL);
    return 0;
  }
  if (load<u8>(w, W_MESSAGE_OPCODE) == OP_TEXT) {
    const s = utf8Step(load<u32>(w, W_UTF8), p, len);
    if (s == UTF8_REJECT) return CLOSE_INVALID_DATA;
    store<u32>(w, s, W_UTF8);
  }
  store<u32>(w, <u32>bufAppend(load<u32>(w, W_MESSAGE), p, len), W_MESSAGE);
  return 0;
}

/** The frame's payload is all here. */
function endFrame(slot: u32, w: usize, sink: MessageSink): u32 {
  const opcode = load<u8>(w, W_OPCODE);
  const fin = load<u8>(w, W_FIN) != 0;
  resetHeader(w);
  if (opcode >= OP_CLOSE) return control(slot, w, opcode, sink);
  if (!fin) return 0;
  if (load<u8>(w, W_MESSAGE_OPCODE) == OP_TEXT && load<u32>(w, W_UTF8) != UTF8_ACCEPT) return CLOSE_INVALID_DATA;
  const msg = load<u32>(w, W_MESSAGE);
  sink(slot, load<u8>(w, W_MESSAGE_OPCODE), msg == 0 ? 0 : bufData(msg), bufLength(msg), 0);
  bufFree(msg);
  store<u32>(w, 0, W_MESSAGE);
  endMessage(w);
  return 0;
}

/** No message in progress: the next data frame must start one. */
function endMessage(w: usize): void {
  store<u8>(w, 0, W_MESSAGE_OPCODE);
  store<u32>(w, 0, W_MESSAGE_LEN);
}

function control(slot: u32, w: usize, opcode: u8, sink: MessageSink): u32 {
  const buf = load<u32>(w, W_CONTROL);
  const p: usize = buf == 0 ? 0 : bufData(buf);
  const len = bufLength(buf);
  let code: u32 = 0;
  let keep = false;
  if (opcode == OP_PING) {
    sendFrame(slot, OP_PONG, p, len);
    sink(slot, OP_PING, p, len, 0);
  } else if (opcode == OP_PONG) {
    sink(slot, OP_PONG, p, len, 0);
  } else if (opcode == OP_CLOSE) {
    code = closeFrameCode(p, len);
    if (code == 0) {
      // JS hears the client's code (1005: none given) and reason; the client hears the code echoed (1000 for none).
      store<u16>(w, len >= 2 ? bswap<u16>(load<u16>(p)) : CLOSE_NO_STATUS, W_CLOSE_CODE);
      keep = len > 2 && load<u32>(w, W_CLOSE_PAYLOAD) == 0;
      if (keep) store<u32>(w, buf, W_CLOSE_PAYLOAD);
      closeWith(slot, w, len >= 2 ? bswap<u16>(load<u16>(p)) : CLOSE_NORMAL);
    }
  }
  if (!keep) bufFree(buf);
  store<u32>(w, 0, W_CONTROL);
  return code;
}

/** 0 for a well-formed close payload, else the code to close with (§5.5.1, §7.4). */
function closeFrameCode(p: usize, len: u32): u32 {
  if (len == 0) return 0;
  if (len == 1) return CLOSE_PROTOCOL;
  const code = <u32>bswap<u16>(load<u16>(p));
  const valid = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
  if (!valid) return CLOSE_PROTOCOL;
  return utf8Step(UTF8_ACCEPT, p + 2, len - 2) == UTF8_ACCEPT ? 0 : CLOSE_INVALID_DATA;
}
