// The core's idle timeout, for any protocol the host turns it on for (echo and line
// today; HTTP has its own timeouts): a connection that has sent nothing for the
// configured time is closed. The dispatcher touches a connection on accept and on
// input and sweeps after each batch. Each connection's last input time (the
// host's NOW_MS) sits in an array indexed by slot, allocated only when the timeout is
// on; a sweep walks the handle table a slice per batch, every quarter of the timeout,
// so a connection is closed between 1× and 1.25× the timeout after its last byte.
//
//   STATE: timeout ms · array · array slots · sweep cursor · next sweep at (NOW_MS)

import { regrow } from "./alloc";
import { bufLength } from "./buffer";
import { nowMs, reached } from "./clock";
import { F_CLOSING, F_OPEN, flags, openConnections, outBuf, tableCapacity } from "./handles";
import { closeNow, closeWhenFlushed, dirtyRoom } from "./output";

const STATE = memory.data(20);
const S_TIMEOUT: usize = 0;
const S_ARRAY: usize = 4;
const S_SLOTS: usize = 8;
const S_CURSOR: usize = 12;
const S_NEXT: usize = 16;
// Slots looked at per batch: a sweep of a million connections takes ~250 batches.
const SWEEP_SLICE: u32 = 4096;

export function idleSetTimeout(ms: u32): void {
  store<u32>(STATE, ms, S_TIMEOUT);
}

@inline export function idleEnabled(): bool {
  return load<u32>(STATE, S_TIMEOUT) != 0;
}

/** The connection in slot has just been accepted or sent something. */
export function idleTouch(slot: u32): void {
  if (!idleEnabled()) return;
  if (slot >= load<u32>(STATE, S_SLOTS)) grow(max(slot + 1, tableCapacity()));
  store<u32>(<usize>load<u32>(STATE, S_ARRAY) + (<usize>slot << 2), nowMs());
  if (load<u32>(STATE, S_NEXT) == 0) store<u32>(STATE, nowMs() + sweepEvery(), S_NEXT);
}

function grow(slots: u32): void {
  const old = <usize>load<u32>(STATE, S_ARRAY);
  store<u32>(STATE, <u32>regrow(old, <usize>load<u32>(STATE, S_SLOTS) << 2, <usize>slots << 2), S_ARRAY);
  store<u32>(STATE, slots, S_SLOTS);
}

@inline function sweepEvery(): u32 {
  return max<u32>(load<u32>(STATE, S_TIMEOUT) >> 2, 10);
}

/** After the batch's events: go on with the sweep, if one is due, as far as the batch has room. */
export function idleSweep(): void {
  if (!idleEnabled() || load<u32>(STATE, S_NEXT) == 0) return;
  const now = nowMs();
  let cursor = load<u32>(STATE, S_CURSOR);
  if (cursor == 0 && !reached(load<u32>(STATE, S_NEXT), now)) return;
  const slots = load<u32>(STATE, S_SLOTS);
  const timeout = load<u32>(STATE, S_TIMEOUT);
  const array = <usize>load<u32>(STATE, S_ARRAY);
  const end = min(slots, cursor + SWEEP_SLICE);
  for (; cursor < end && dirtyRoom() > 0; cursor++) {
    if ((flags(cursor) & (F_OPEN | F_CLOSING)) != F_OPEN) continue;
    if (!reached(load<u32>(array + (<usize>cursor << 2)) + timeout, now)) continue;
    // Idle: it goes, with what it was still owed if the socket takes it, else at once.
    if (bufLength(outBuf(cursor)) == 0) closeWhenFlushed(cursor);
    else closeNow(cursor);
  }
  if (cursor >= slots) {
    cursor = 0;
    // No connection left: no more sweeps until one arrives (idleTouch schedules again).
    store<u32>(STATE, openConnections() == 0 ? 0 : now + sweepEvery(), S_NEXT);
  }
  store<u32>(STATE, cursor, S_CURSOR);
}

/** When the host must call next for the sweep: now while one is under way. */
export function idleDeadline(now: u32): u32 {
  return load<u32>(STATE, S_CURSOR) != 0 ? now : load<u32>(STATE, S_NEXT);
}

export function idleHasDeadline(): bool {
  return idleEnabled() && load<u32>(STATE, S_NEXT) != 0;
}
