// The output path of a connection, and the submission ring it feeds.
//
// A handler calls send() as often as it likes during a batch. Each connection the
// batch touched sits once on the dirty list, and at the end of the batch flush()
// writes at most one send for it, so the host never has two sends of one connection
// to order. In the order we try them:
//   1. direct: bytes still in the arena go out from where the kernel put them (or
//      from the reply arena, where a handler formatted them), with neighbouring
//      replies coalesced into one segment;
//   2. buffered: anything else (bytes from the heap, a second non-adjacent segment,
//      output behind a short send) is copied into the connection's output buffer;
//   3. backpressure: when a send is short, the host reports what is left (EV_SENT),
//      the tail moves into the output buffer (the arena half it points into stays
//      valid through this dispatch) and OUT interest goes on until it drains, then off.
// Past HIGH_WATER unsent bytes input is paused, so a peer that writes without
// reading cannot grow our memory without bound.

import {
  INTEREST_IN, INTEREST_OUT, OP_CLOSE, OP_INTEREST, OP_SEND, OP_SEND_NOTIFY, RECORD_BYTES,
} from "./abi";
import { bufAppend, bufConsume, bufData, bufFree, bufLength } from "./buffer";
import { hookClose, hookSendCompleted } from "./handler";
import { timerCancel } from "./timers";
import {
  clearFlag, connId, dirtyIndex, F_CLOSING, F_CUR_IN, F_CUR_OUT, F_HOLD_IN, F_IN_PAUSED, F_OPEN,
  F_PEER_EOF, F_WANT_OUT, F_WRITABLE, flags, hasFlag, inBuf, outBuf, releaseConn, setDirtyIndex,
  setFlag, setInBuf, setOutBuf,
} from "./handles";

// Pause input above this many unsent bytes, resume below the low mark.
const HIGH_WATER: u32 = 1 << 20;
const LOW_WATER: u32 = 256 << 10;

// Dirty list entries: { slot, direct segment pointer, direct segment length }.
const D_BYTES: u32 = 12;

export let subRing: usize = 0;
export let subCap: u32 = 0;
export let subCount: u32 = 0;
export let arenaStart: usize = 0;
export let arenaEnd: usize = 0;
export let dirty: usize = 0;
// The reply arena: where a handler may format replies it builds itself (http routes),
// so they go out directly like echoed bytes instead of through a connection buffer.
// Double-buffered like the input arena: a half is written during one dispatch and
// left alone during the next, when a short send's EV_SENT may still point into it.
export let replyStart: usize = 0;
export let replyHalf: u32 = 0;
export let replyUsed: u32 = 0;
export let replyFlip: u32 = 0;
export let dirtyCap: u32 = 0;
export let dirtyCount: u32 = 0;

export function outputInit(ring: usize, ringCap: u32, arena: usize, arenaBytes: usize, list: usize, listCap: u32): void {
  subRing = ring;
  subCap = ringCap;
  arenaStart = arena;
  arenaEnd = arena + arenaBytes;
  dirty = list;
  dirtyCap = listCap;
}

/** Gives the module a reply arena of two halves of `half` bytes (http). */
export function replyArenaInit(start: usize, half: u32): void {
  replyStart = start;
  replyHalf = half;
}

export function beginBatch(): void {
  subCount = 0;
  dirtyCount = 0;
  replyFlip ^= 1;
  replyUsed = 0;
}

/** Room for a reply of len bytes in this batch's reply arena, or 0 if it is full (then send() copies). */
export function reserveReply(len: u32): usize {
  if (replyUsed + len > replyHalf) return 0;
  const p = replyStart + <usize>replyFlip * replyHalf + replyUsed;
  replyUsed += len;
  return p;
}

export function dirtyRoom(): u32 {
  return dirtyCap - dirtyCount;
}

export function submit(op: u32, id: u32, a: u32, b: u32): void {
  assert(subCount < subCap, "submission ring full");
  const r = subRing + <usize>subCount * RECORD_BYTES;
  store<u32>(r, op, 0);
  store<u32>(r, id, 4);
  store<u32>(r, a, 8);
  store<u32>(r, b, 12);
  subCount++;
}

/** The connection's dirty-list entry, added on first touch in this batch. */
export function markDirty(slot: u32): usize {
  const i = dirtyIndex(slot);
  if (i < dirtyCount && load<u32>(dirty + <usize>i * D_BYTES) == slot) return dirty + <usize>i * D_BYTES;
  assert(dirtyCount < dirtyCap, "dirty list full");
  const e = dirty + <usize>dirtyCount * D_BYTES;
  store<u32>(e, slot, 0);
  store<u32>(e, 0, 4);
  store<u32>(e, 0, 8);
  setDirtyIndex(slot, dirtyCount++);
  return e;
}

@inline function inArena(ptr: usize, len: u32): bool {
  return (ptr >= arenaStart && ptr + len <= arenaEnd)
    || (ptr >= replyStart && ptr + len <= replyStart + (<usize>replyHalf << 1));
}

/** Queues len bytes at ptr for the connection; bytes outside the arena are copied. */
export function send(slot: u32, ptr: usize, len: u32): void {
  if (len == 0) return;
  const e = markDirty(slot);
  const out = outBuf(slot);
  if (out != 0) {
    setOutBuf(slot, bufAppend(out, ptr, len));
    return;
  }
  const segPtr = <usize>load<u32>(e, 4);
  const segLen = load<u32>(e, 8);
  if (inArena(ptr, len) && (segLen == 0 || segPtr + segLen == ptr)) {
    if (segLen == 0) store<u32>(e, <u32>ptr, 4);
    store<u32>(e, segLen + len, 8);
    return;
  }
  // The direct segment (if any) must go out first, so it moves into the buffer too.
  let buf = segLen != 0 ? bufAppend(0, segPtr, segLen) : 0;
  store<u32>(e, 0, 8);
  setOutBuf(slot, bufAppend(buf, ptr, len));
}

/** Closes the connection once everything queued so far has been sent. */
export function closeWhenFlushed(slot: u32): void {
  setFlag(slot, F_CLOSING);
  markDirty(slot);
}

/** The host reported writability (EV_WRITABLE). */
export function onWritable(slot: u32): void {
  setFlag(slot, F_WRITABLE);
  markDirty(slot);
}

/** The host reported an unsent remainder (EV_SENT): [next, next + remaining). */
export function onSent(slot: u32, next: usize, remaining: u32): void {
  let out = outBuf(slot);
  if (out != 0) {
    assert(next >= bufData(out) && next <= bufData(out) + bufLength(out), "EV_SENT outside the output buffer");
    bufConsume(out, <u32>(next - bufData(out)));
    assert(bufLength(out) == remaining, "EV_SENT remainder disagrees with the output buffer");
  } else if (remaining != 0) {
    out = bufAppend(0, next, remaining); // a short direct send: keep the tail
  }
  if (bufLength(out) == 0) {
    bufFree(out);
    out = 0;
    clearFlag(slot, F_WANT_OUT);
  } else {
    setFlag(slot, F_WANT_OUT);
  }
  setOutBuf(slot, out);
  markDirty(slot);
  hookSendCompleted(slot, bufLength(out));
}

/**
 * Closes at once (the peer is gone): frees the buffers and the slot. A close counts
 * against the batch's dirty list like any touch, which is what bounds the submission
 * ring: however a batch closes connections (errors, idle sweeps, backpressure), it
 * cannot close more than it may touch.
 */
export function closeNow(slot: u32): void {
  markDirty(slot);
  submit(OP_CLOSE, connId(slot), 0, 0);
  const close = hookClose;
  if (close) close(slot);
  timerCancel(slot);
  bufFree(inBuf(slot)); // what the protocol left in the input word: its leftovers or state
  setInBuf(slot, 0);
  bufFree(outBuf(slot));
  setOutBuf(slot, 0);
  releaseConn(slot);
}

export function submissionCount(): u32 {
  return subCount;
}

/** Ends the batch: one send and at most one interest change per dirty connection. */
export function flushBatch(): u32 {
  for (let i: u32 = 0; i < dirtyCount; i++) {
    const e = dirty + <usize>i * D_BYTES;
    flush(load<u32>(e, 0), <usize>load<u32>(e, 4), load<u32>(e, 8));
  }
  return subCount;
}

function flush(slot: u32, segPtr: usize, segLen: u32): void {
  const f = flags(slot);
  if ((f & F_OPEN) == 0) return; // closed earlier in this batch
  const closing = (f & F_CLOSING) != 0;
  const out = outBuf(slot);
  if (segLen != 0) {
    // Closing needs to hear that the last bytes left before it may close.
    submit(closing ? OP_SEND_NOTIFY : OP_SEND, connId(slot), <u32>segPtr, segLen);
  } else if (bufLength(out) != 0) {
    if ((f & F_WANT_OUT) == 0 || (f & F_WRITABLE) != 0) {
      submit(OP_SEND_NOTIFY, connId(slot), <u32>bufData(out), bufLength(out));
    }
  } else if (closing) {
    closeNow(slot);
    return;
  }
  clearFlag(slot, F_WRITABLE);
  updateInterest(slot, bufLength(out));
}

function updateInterest(slot: u32, unsent: u32): void {
  if (hasFlag(slot, F_IN_PAUSED)) {
    if (unsent <= LOW_WATER) clearFlag(slot, F_IN_PAUSED);
  } else if (unsent > HIGH_WATER) {
    setFlag(slot, F_IN_PAUSED);
  }
  const f = flags(slot);
  const want = ((f & (F_PEER_EOF | F_CLOSING | F_IN_PAUSED | F_HOLD_IN)) == 0 ? INTEREST_IN : 0)
    | ((f & F_WANT_OUT) != 0 ? INTEREST_OUT : 0);
  const cur = ((f & F_CUR_IN) != 0 ? INTEREST_IN : 0) | ((f & F_CUR_OUT) != 0 ? INTEREST_OUT : 0);
  if (want == cur) return;
  submit(OP_INTEREST, connId(slot), want, 0);
  clearFlag(slot, F_CUR_IN | F_CUR_OUT);
  setFlag(slot, ((want & INTEREST_IN) != 0 ? F_CUR_IN : 0) | ((want & INTEREST_OUT) != 0 ? F_CUR_OUT : 0));
}
