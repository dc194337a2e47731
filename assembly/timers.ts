// Timers per connection, for any protocol (the SDK's setTimer): at most one deadline per
// connection on the module's clock, in a binary min-heap, with each slot's place in the
// heap in an array indexed by slot (both allocated when the first timer is armed, so a
// protocol without timers pays nothing). After each batch's events the due timers fire
// (hookTimer), as many as the batch may still touch; the earliest deadline goes into
// the header's DEADLINE, so the host dispatches again when it comes, events or not.
//
//   heap entry (8 bytes): deadline (NOW_MS) u32 · slot u32
//   index[slot]: the slot's heap position + 1, or 0 when it has no timer
//
// Deadlines are compared on a clock that wraps (clock.ts), which orders them rightly as
// long as all lie within 2^31 ms of each other: a timer is at most MAX_TIMER_MS away.

import { regrow } from "./alloc";
import { nowMs, reached } from "./clock";
import { connId, F_CLOSING, F_OPEN, flags, tableCapacity } from "./handles";
import { currentConnection } from "./current";
import { fuelRefill } from "./fuel";
import { hookTimer } from "./handler";
import { dirtyRoom } from "./output";

/** The longest a timer may be set for (about 12 days). */
export const MAX_TIMER_MS: u32 = 1 << 30;

const STATE = memory.data(20);
const S_HEAP: usize = 0;
const S_COUNT: usize = 4;
const S_CAPACITY: usize = 8;
const S_INDEX: usize = 12;
const S_INDEX_SLOTS: usize = 16;
const ENTRY_BYTES: u32 = 8;

@inline function heap(): usize { return load<u32>(STATE, S_HEAP); }
@inline function count(): u32 { return load<u32>(STATE, S_COUNT); }
@inline function setCount(n: u32): void { store<u32>(STATE, n, S_COUNT); }
@inline function deadlineAt(i: u32): u32 { return load<u32>(heap() + <usize>i * ENTRY_BYTES); }
@inline function slotAt(i: u32): u32 { return load<u32>(heap() + <usize>i * ENTRY_BYTES, 4); }
@inline function indexOf(slot: u32): usize { return <usize>load<u32>(STATE, S_INDEX) + (<usize>slot << 2); }

/** Whether deadline a comes before b. */
@inline function before(a: u32, b: u32): bool {
  return <i32>(a - b) < 0;
}

function put(i: u32, deadline: u32, slot: u32): void {
  const e = heap() + <usize>i * ENTRY_BYTES;
  store<u32>(e, deadline);
  store<u32>(e, slot, 4);
  store<u32>(indexOf(slot), i + 1);
}

/** Arms (or moves) the connection's timer to fire `ms` from now. */
export function timerArm(slot: u32, ms: u32): void {
  const deadline = nowMs() + min(ms, MAX_TIMER_MS);
  if (slot >= load<u32>(STATE, S_INDEX_SLOTS)) growIndex(max(slot + 1, tableCapacity()));
  const at = load<u32>(indexOf(slot));
  if (at != 0) {
    // Moved: it sifts from where it is, up or down.
    put(at - 1, deadline, slot);
    siftDown(siftUp(at - 1));
    return;
  }
  if (count() == load<u32>(STATE, S_CAPACITY)) growHeap();
  const i = count();
  setCount(i + 1);
  put(i, deadline, slot);
  siftUp(i);
}

/** Disarms the connection's timer, if it has one (its close does this). */
export function timerCancel(slot: u32): void {
  if (slot >= load<u32>(STATE, S_INDEX_SLOTS)) return; // no timer was ever armed this high
  const at = load<u32>(indexOf(slot));
  if (at == 0) return;
  store<u32>(indexOf(slot), 0);
  const last = count() - 1;
  setCount(last);
  if (at - 1 == last) return;
  put(at - 1, deadlineAt(last), slotAt(last));
  siftDown(siftUp(at - 1));
}

/** Whether any timer is armed; then timersEarliest() is when the first fires. */
export function timersArmed(): bool {
  return count() != 0;
}

export function timersEarliest(): u32 {
  return deadlineAt(0);
}

/** Fires the timers that are due, earliest first, while the batch may touch connections. */
export function timersFire(): void {
  const now = nowMs();
  while (count() != 0 && reached(deadlineAt(0), now) && dirtyRoom() > 0) {
    const slot = slotAt(0);
    timerCancel(slot);
    // A connection closing already hears no more from its handler.
    if ((flags(slot) & (F_OPEN | F_CLOSING)) == F_OPEN) {
      fuelRefill(); // a timer's hook is an event of its own: a whole budget
      currentConnection(connId(slot));
      hookTimer(slot);
      currentConnection(0);
    }
  }
}

function siftUp(i: u32): u32 {
  const deadline = deadlineAt(i);
  const slot = slotAt(i);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(deadline, deadlineAt(parent))) break;
    put(i, deadlineAt(parent), slotAt(parent));
    i = parent;
  }
  put(i, deadline, slot);
  return i;
}

function siftDown(i: u32): void {
  const deadline = deadlineAt(i);
  const slot = slotAt(i);
  const n = count();
  for (;;) {
    let child = i * 2 + 1;
    if (child >= n) break;
    if (child + 1 < n && before(deadlineAt(child + 1), deadlineAt(child))) child++;
    if (!before(deadlineAt(child), deadline)) break;
    put(i, deadlineAt(child), slotAt(child));
    i = child;
  }
  put(i, deadline, slot);
}

function growHeap(): void {
  const capacity = load<u32>(STATE, S_CAPACITY);
  const bigger = capacity == 0 ? 64 : capacity * 2;
  store<u32>(STATE, <u32>regrow(heap(), <usize>capacity * ENTRY_BYTES, <usize>bigger * ENTRY_BYTES), S_HEAP);
  store<u32>(STATE, bigger, S_CAPACITY);
}

function growIndex(slots: u32): void {
  const old = <usize>load<u32>(STATE, S_INDEX);
  store<u32>(STATE, <u32>regrow(old, <usize>load<u32>(STATE, S_INDEX_SLOTS) << 2, <usize>slots << 2), S_INDEX);
  store<u32>(STATE, slots, S_INDEX_SLOTS);
}
