// Connection timeouts: two intrusive doubly linked lists threaded through the
// connection blocks, one per timeout. Every entry of a list has the same duration, so
// appending at the tail keeps it sorted by deadline: arming, re-arming and disarming
// are O(1), and expiring looks only at heads. (muduo and nginx make the same
// observation; a heap is only needed when durations differ.)
//
//   HEADERS: a request's head (or body) has started and must finish → 408, close
//   IDLE:    keep-alive between requests → close
//   ANSWER:  the host's handler has the request and has been silent → 503, or close

import { inBuf } from "../handles";
import { reached } from "../clock";
import { K_DEADLINE, K_TIMER_LIST, K_TIMER_NEXT, K_TIMER_PREV } from "./conn";

export const TIMER_NONE: u8 = 0;
export const TIMER_HEADERS: u8 = 1;
export const TIMER_IDLE: u8 = 2;
export const TIMER_ANSWER: u8 = 3;

// Per list: first and last slot, each + 1 so that 0 means none.
const LISTS = memory.data(32);

@inline function first(list: u8): u32 { return load<u32>(LISTS + <usize>list * 8); }
@inline function last(list: u8): u32 { return load<u32>(LISTS + <usize>list * 8 + 4); }
@inline function setFirst(list: u8, v: u32): void { store<u32>(LISTS + <usize>list * 8, v); }
@inline function setLast(list: u8, v: u32): void { store<u32>(LISTS + <usize>list * 8 + 4, v); }

@inline function block(slotPlusOne: u32): usize {
  return inBuf(slotPlusOne - 1);
}

export function timerList(k: usize): u8 {
  return load<u8>(k, K_TIMER_LIST);
}

/** When the connection's armed timer fires. */
export function timerDeadline(k: usize): u32 {
  return load<u32>(k, K_DEADLINE);
}

/** Arms (or re-arms) the connection's timer on `list`, to fire at `deadline`. */
export function timerSet(slot: u32, k: usize, list: u8, deadline: u32): void {
  timerClear(slot, k);
  const tail = last(list);
  store<u32>(k, tail, K_TIMER_PREV);
  store<u32>(k, 0, K_TIMER_NEXT);
  store<u32>(k, deadline, K_DEADLINE);
  store<u8>(k, list, K_TIMER_LIST);
  if (tail != 0) store<u32>(block(tail), slot + 1, K_TIMER_NEXT);
  else setFirst(list, slot + 1);
  setLast(list, slot + 1);
}

export function timerClear(slot: u32, k: usize): void {
  const list = timerList(k);
  if (list == TIMER_NONE) return;
  const prev = load<u32>(k, K_TIMER_PREV);
  const next = load<u32>(k, K_TIMER_NEXT);
  if (prev != 0) store<u32>(block(prev), next, K_TIMER_NEXT);
  else setFirst(list, next);
  if (next != 0) store<u32>(block(next), prev, K_TIMER_PREV);
  else setLast(list, prev);
  store<u8>(k, TIMER_NONE, K_TIMER_LIST);
}

/**
 * The first expired connection on `list` (its slot), already unlinked; -1 if none.
 * The caller handles one at a time, so it can stop when the batch is full.
 */
export function popExpired(list: u8, now: u32): i32 {
  const head = first(list);
  if (head == 0) return -1;
  const k = block(head);
  if (!reached(load<u32>(k, K_DEADLINE), now)) return -1;
  timerClear(head - 1, k);
  return <i32>(head - 1);
}

/** Whether any timer is armed; the earliest deadline is then nextDeadline(). */
export function hasTimers(): bool {
  return first(TIMER_HEADERS) != 0 || first(TIMER_IDLE) != 0 || first(TIMER_ANSWER) != 0;
}

/** The earliest deadline of the armed lists (call when hasTimers()). */
export function nextDeadline(now: u32): u32 {
  let earliest: u32 = 0;
  let found = false;
  for (let list: u8 = TIMER_HEADERS; list <= TIMER_ANSWER; list++) {
    const head = first(list);
    if (head == 0) continue;
    const d = load<u32>(block(head), K_DEADLINE);
    if (!found || <i32>(d - now) < <i32>(earliest - now)) earliest = d;
    found = true;
  }
  return earliest;
}
