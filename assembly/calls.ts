// Host calls: a handler asks the application for something only it has (a lookup, an
// auth check) without leaving the sandbox. The call goes out in the outbox; the answer
// comes back as an event for the same connection, in a later batch. Both cross the
// door, so a recording holds them and a replay needs no application.
//
//   call (outbox OUT_HOST_CALL):  call id u32 · name length u32 · name · data
//   answer (EV_CALL_RESULT):      call id u32 · status u32 · data
//
// Pending calls wait in a ring in call order. Every call has the same timeout, so the
// ring is also in deadline order: the oldest is the next to time out. A call's place in
// the ring is its id minus the oldest id, found in O(1) when its answer comes. An answer
// for a connection that has closed never reaches its handler (the dispatcher drops
// events for ids no longer open), and its call times out quietly.
//
//   STATE: next id · oldest id · pending · ring capacity · ring · timeout ms
//   ring entry (12 bytes): connection id (0 once answered) · deadline · (unused)

import { allocBlock, classOf, freeBlock } from "./alloc";
import { nowMs, reached } from "./clock";
import { connId, findConn } from "./handles";
import { hookCallResult } from "./handler";
import { OUT_HOST_CALL, outboxPut } from "./outbox";
import { dirtyRoom } from "./output";
import { currentConnection } from "./current";

/** Answer statuses. The application's: */
export const CALL_OK: u32 = 0;
export const CALL_FAILED: u32 = 1; // the application's function threw
export const CALL_UNKNOWN: u32 = 2; // no function by that name
export const CALL_TOO_LARGE: u32 = 4; // the answer was larger than a host may send
/** The module's own: no answer came within the timeout. */
export const CALL_TIMED_OUT: u32 = 3;

const STATE = memory.data<u32>([1, 1, 0, 0, 0, 30_000]);
const S_NEXT: usize = 0;
const S_OLDEST: usize = 4;
const S_PENDING: usize = 8;
const S_CAPACITY: usize = 12;
const S_RING: usize = 16;
const S_TIMEOUT: usize = 20;
const ENTRY_BYTES: u32 = 12;

@inline function state(at: usize): u32 { return load<u32>(STATE + at); }
@inline function setState(at: usize, v: u32): void { store<u32>(STATE + at, v); }

/** The ring entry of the call `offset` places after the oldest. */
function entry(offset: u32): usize {
  return <usize>state(S_RING) + <usize>((state(S_OLDEST) + offset) % state(S_CAPACITY)) * ENTRY_BYTES;
}

export function callsSetTimeout(ms: u32): void {
  setState(S_TIMEOUT, ms);
}

/** Asks the application for `name` (nameLen bytes at name) with `len` bytes at data; returns the call's id. */
export function hostCall(slot: u32, name: usize, nameLen: u32, data: usize, len: u32): u32 {
  if (state(S_PENDING) == state(S_CAPACITY)) grow();
  const id = state(S_NEXT);
  setState(S_NEXT, id + 1);
  const e = entry(state(S_PENDING));
  store<u32>(e, connId(slot));
  store<u32>(e, nowMs() + state(S_TIMEOUT), 4);
  setState(S_PENDING, state(S_PENDING) + 1);
  // The outbox entry's payload, put together in a scratch block (the outbox copies it).
  const size = 8 + nameLen + len;
  const payload = allocBlock(size);
  store<u32>(payload, id);
  store<u32>(payload, nameLen, 4);
  memory.copy(payload + 8, name, nameLen);
  memory.copy(payload + 8 + nameLen, data, len);
  outboxPut(OUT_HOST_CALL, connId(slot), payload, size);
  freeBlock(payload, classOf(size));
  return id;
}

/** An answer (EV_CALL_RESULT) for the open connection in slot. */
export function callAnswered(slot: u32, p: usize, len: u32): void {
  if (len < 8) return;
  const id = load<u32>(p);
  const offset = id - state(S_OLDEST);
  if (offset >= state(S_PENDING)) return; // timed out already, or never made
  const e = entry(offset);
  if (load<u32>(e) != connId(slot)) return; // answered already, or another connection's
  store<u32>(e, 0);
  hookCallResult(slot, id, load<u32>(p, 4), p + 8, len - 8);
  dropAnswered();
}

/** After the batch's events: calls past their deadline are answered CALL_TIMED_OUT, as many as the batch may touch. */
export function callsExpire(): void {
  const now = nowMs();
  dropAnswered();
  while (state(S_PENDING) != 0 && dirtyRoom() > 0) {
    const e = entry(0);
    if (!reached(load<u32>(e, 4), now)) return;
    const id = state(S_OLDEST);
    const conn = load<u32>(e);
    store<u32>(e, 0);
    dropAnswered();
    const found = findConn(conn);
    if (found < 0) continue;
    currentConnection(conn);
    hookCallResult(<u32>found, id, CALL_TIMED_OUT, 0, 0);
    currentConnection(0);
  }
}

/** Whether a call is pending; then callsDeadline() is when the oldest times out. */
export function callsPending(): bool {
  return state(S_PENDING) != 0;
}

export function callsDeadline(): u32 {
  return load<u32>(entry(0), 4);
}

/** Pops answered calls off the front of the ring. */
function dropAnswered(): void {
  while (state(S_PENDING) != 0 && load<u32>(entry(0)) == 0) {
    setState(S_OLDEST, state(S_OLDEST) + 1);
    setState(S_PENDING, state(S_PENDING) - 1);
  }
}

/** Doubles the ring; each pending call moves to where its id falls in the bigger one. */
function grow(): void {
  const capacity = state(S_CAPACITY);
  const bigger = capacity == 0 ? 64 : capacity * 2;
  const ring = allocBlock(<usize>bigger * ENTRY_BYTES);
  for (let i: u32 = 0; i < state(S_PENDING); i++) {
    memory.copy(ring + <usize>((state(S_OLDEST) + i) % bigger) * ENTRY_BYTES, entry(i), ENTRY_BYTES);
  }
  if (capacity != 0) freeBlock(state(S_RING), classOf(<usize>capacity * ENTRY_BYTES));
  setState(S_RING, <u32>ring);
  setState(S_CAPACITY, bigger);
}
