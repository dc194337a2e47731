// The handle table: per-connection state indexed by slot, O(1) from a connection id.
//
// A connection id is slot | generation << 20. The host picks both (the native host
// uses the fd as the slot and bumps the generation on every accept), and the table
// keeps the whole id, so an event for a reused slot with an old generation is
// recognised as stale and dropped: a reused fd can never reach a dead connection.
//
// The table grows by doubling, up to MAX_SLOTS (1,048,576) entries of CONN_BYTES.
// An idle connection costs exactly CONN_BYTES: buffers are allocated only for leftovers.

import { MAX_SLOTS, SLOT_MASK } from "./abi";
import { regrow } from "./alloc";

// 16 bytes, so a full table of 1,048,576 entries is exactly 16 MiB (a power-of-two block).
export const CONN_BYTES: u32 = 16;
const C_ID: u32 = 0; // full connection id, 0 when the slot is free
const C_STATE: u32 = 4; // flags in the low 9 bits, dirty-list index (output.ts) in the high 23
const C_IN: u32 = 8; // the protocol's input state: echo and line keep their leftover buffer here, http its connection block; 0 if none
const C_OUT: u32 = 12; // unsent output buffer (buffer.ts), 0 if none
const FLAG_BITS: u32 = 0x1ff;
const DIRTY_SHIFT: u32 = 9;

// Flags.
export const F_OPEN: u32 = 1;
export const F_CUR_IN: u32 = 2; // the host has input interest on
export const F_CUR_OUT: u32 = 4; // the host has output interest on
export const F_WANT_OUT: u32 = 8; // output is waiting for the socket to become writable
export const F_IN_PAUSED: u32 = 16; // input paused: too much unsent output (backpressure)
export const F_PEER_EOF: u32 = 32; // the peer will send nothing more
export const F_CLOSING: u32 = 64; // close once the output has drained
export const F_WRITABLE: u32 = 128; // the host reported writability in this batch
export const F_HOLD_IN: u32 = 256; // input paused by the handler (a request waits for its answer)

export let table: usize = 0;
export let capacity: u32 = 0;
export let openCount: u32 = 0;

export function tableInit(initialSlots: u32): void {
  grow(initialSlots);
}

function grow(minSlots: u32): void {
  let slots: u32 = capacity == 0 ? 1024 : capacity;
  while (slots < minSlots) slots <<= 1;
  slots = min(slots, MAX_SLOTS);
  table = regrow(table, <usize>capacity * CONN_BYTES, <usize>slots * CONN_BYTES);
  capacity = slots;
}

@inline function entry(slot: u32): usize {
  return table + <usize>slot * CONN_BYTES;
}

/** Claims the slot of a newly accepted connection. */
export function openConn(id: u32): u32 {
  const slot = id & SLOT_MASK;
  if (slot >= capacity) grow(slot + 1);
  const c = entry(slot);
  assert((load<u32>(c, C_STATE) & F_OPEN) == 0, "accept on a slot that is still open");
  store<u32>(c, id, C_ID);
  store<u32>(c, F_OPEN | F_CUR_IN, C_STATE);
  store<u32>(c, 0, C_IN);
  store<u32>(c, 0, C_OUT);
  openCount++;
  return slot;
}

/** The slot of a live connection, or -1 if the id is stale or unknown. */
export function findConn(id: u32): i32 {
  const slot = id & SLOT_MASK;
  if (slot >= capacity) return -1;
  const c = entry(slot);
  if (load<u32>(c, C_ID) != id || (load<u32>(c, C_STATE) & F_OPEN) == 0) return -1;
  return <i32>slot;
}

/** Frees the slot; the caller has released the buffers. */
export function releaseConn(slot: u32): void {
  const c = entry(slot);
  store<u32>(c, 0, C_ID);
  store<u32>(c, 0, C_STATE);
  openCount--;
}

@inline export function connId(slot: u32): u32 { return load<u32>(entry(slot), C_ID); }
@inline function state(slot: u32): u32 { return load<u32>(entry(slot), C_STATE); }
@inline export function flags(slot: u32): u32 { return state(slot) & FLAG_BITS; }
@inline export function hasFlag(slot: u32, f: u32): bool { return (flags(slot) & f) != 0; }
@inline export function setFlag(slot: u32, f: u32): void { store<u32>(entry(slot), state(slot) | f, C_STATE); }
@inline export function clearFlag(slot: u32, f: u32): void { store<u32>(entry(slot), state(slot) & ~f, C_STATE); }
@inline export function inBuf(slot: u32): usize { return load<u32>(entry(slot), C_IN); }
@inline export function setInBuf(slot: u32, buf: usize): void { store<u32>(entry(slot), <u32>buf, C_IN); }
@inline export function outBuf(slot: u32): usize { return load<u32>(entry(slot), C_OUT); }
@inline export function setOutBuf(slot: u32, buf: usize): void { store<u32>(entry(slot), <u32>buf, C_OUT); }
@inline export function dirtyIndex(slot: u32): u32 { return state(slot) >>> DIRTY_SHIFT; }
@inline export function setDirtyIndex(slot: u32, i: u32): void {
  store<u32>(entry(slot), (i << DIRTY_SHIFT) | flags(slot), C_STATE);
}

export function openConnections(): u32 { return openCount; }
export function tableCapacity(): u32 { return capacity; }
