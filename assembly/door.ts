// The module's exports: the whole door between host and module (docs/ABI.md). Every
// protocol module's entry file re-exports this (export * from "../door") and then
// registers its hooks (handler.ts).

import {
  INIT_TRAP_ON_MAGIC, ABI_MAGIC, ABI_VERSION, FLAG_MORE, FLAG_TIMER, H_ARENA, H_DEADLINE, H_ARENA_HALF, H_EV_CAP, H_EV_RING, H_FLAGS,
  H_MAGIC, H_MAX_CONNS, H_NOW_MS, H_OPEN_CONNS, H_SUB_CAP, H_SUB_RING, H_UNIX_SECONDS, H_VERSION, HEADER_BYTES,
  MAX_SLOTS, OPT_CALL_TIMEOUT_MS, OPT_CONN_IDLE_TIMEOUT_MS, OPT_CPU_BUDGET, RECORD_BYTES,
} from "./abi";
import { setClock } from "./clock";
import { idleDeadline, idleHasDeadline, idleSetTimeout } from "./idle";
import { bump, reservedBytes } from "./alloc";
import { dispatchBatch, dispatcherInit, wantsMore } from "./dispatcher";
import { callsDeadline, callsPending, callsSetTimeout } from "./calls";
import { currentInit } from "./current";
import { enableTrapOnMagic } from "./faults";
import { fuelSetBudget } from "./fuel";
import { CONN_BYTES, openConnections, tableInit } from "./handles";
import { hookDeadline, hookHasDeadline, hookOption, replyArenaHalfBytes } from "./handler";
import { outputInit, replyArenaInit } from "./output";
import { timersArmed, timersEarliest } from "./timers";

export { ABI_VERSION, CONN_BYTES };

// Every piece of mutable state outside linear memory, exported for checkpoints
// (host/checkpoint.ts); test/checkpoint.test.ts fails if one is missing. A protocol
// module exports its own the same way.
export { table as state_table, capacity as state_capacity, openCount as state_openCount } from "./handles";
export { trapOnMagic as state_trapOnMagic } from "./faults";
export { fuelLeft as state_fuelLeft } from "./fuel";
export {
  subRing as state_subRing, subCap as state_subCap, subCount as state_subCount, arenaStart as state_arenaStart,
  arenaEnd as state_arenaEnd, dirty as state_dirty, dirtyCap as state_dirtyCap, dirtyCount as state_dirtyCount,
  replyStart as state_replyStart, replyHalf as state_replyHalf, replyUsed as state_replyUsed,
  replyFlip as state_replyFlip,
} from "./output";
export { evRing as state_evRing, draining as state_draining, drainCursor as state_drainCursor } from "./dispatcher";
// The protocol's hooks: set by its start function, the same in every instance.
export {
  hookOpen as state_hookOpen, hookData as state_hookData, hookEof as state_hookEof, hookClose as state_hookClose,
  hookDrain as state_hookDrain, hookHostEvent as state_hookHostEvent, hookServerEvent as state_hookServerEvent,
  hookSendCompleted as state_hookSendCompleted, hookTimer as state_hookTimer, hookCallResult as state_hookCallResult,
  hookTick as state_hookTick, hookHasDeadline as state_hookHasDeadline,
  hookDeadline as state_hookDeadline, hookWantsMore as state_hookWantsMore, hookOption as state_hookOption,
  replyArenaHalfBytes as state_replyArenaHalfBytes,
} from "./handler";

let header: usize = 0;
export { header as state_header };

/**
 * Lays out the rings and the arena and returns the header pointer.
 * evCap: event records per batch; arenaHalf: bytes the host may read per batch;
 * flags: INIT_* bits.
 */
export function init(evCap: u32, arenaHalf: u32, flags: u32): usize {
  assert(header == 0, "init called twice");
  assert(evCap <= 1 << 23, "the dirty-list index has 23 bits");
  if ((flags & INIT_TRAP_ON_MAGIC) != 0) enableTrapOnMagic();
  // A touched connection (each on the dirty list, closes included) yields at most a send
  // and an interest change, or a close; the batch adds one OUTBOX record at the end.
  const subCap = evCap * 2 + 1;
  header = bump(HEADER_BYTES);
  const evRing = bump(<usize>evCap * RECORD_BYTES);
  const subRing = bump(<usize>subCap * RECORD_BYTES);
  const arena = bump(<usize>arenaHalf * 2);
  const dirtyList = bump(<usize>evCap * 12);
  dispatcherInit(evRing);
  currentInit(header);
  outputInit(subRing, subCap, arena, <usize>arenaHalf * 2, dirtyList, evCap);
  if (replyArenaHalfBytes != 0) replyArenaInit(bump(<usize>replyArenaHalfBytes * 2), replyArenaHalfBytes);
  tableInit(1024);

  store<u32>(header, ABI_MAGIC, H_MAGIC);
  store<u32>(header, ABI_VERSION, H_VERSION);
  store<u32>(header, <u32>evRing, H_EV_RING);
  store<u32>(header, evCap, H_EV_CAP);
  store<u32>(header, <u32>subRing, H_SUB_RING);
  store<u32>(header, subCap, H_SUB_CAP);
  store<u32>(header, <u32>arena, H_ARENA);
  store<u32>(header, arenaHalf, H_ARENA_HALF);
  store<u32>(header, MAX_SLOTS, H_MAX_CONNS);
  return header;
}

/** Sets an option (OPT_* in abi.ts) after init: the core's, else the protocol's; false for an unknown key. */
export function setOption(key: u32, value: u32): bool {
  if (key == OPT_CONN_IDLE_TIMEOUT_MS) {
    idleSetTimeout(value);
    return true;
  }
  if (key == OPT_CPU_BUDGET) {
    fuelSetBudget(value);
    return true;
  }
  if (key == OPT_CALL_TIMEOUT_MS) {
    callsSetTimeout(value);
    return true;
  }
  return hookOption(key, value);
}

/** Memory for the host to write set-up data into (a route description), kept for the instance's life. */
export function reserve(bytes: u32): usize {
  return bump(bytes);
}

/** The earlier of `so far` (if any is armed yet) and `deadline`, on a clock that wraps. */
function earlier(armed: bool, soFar: u32, deadline: u32): u32 {
  return !armed || <i32>(deadline - soFar) < 0 ? deadline : soFar;
}

/** Handles n event records; returns the number of submission records written. */
export function dispatch(n: u32): u32 {
  setClock(load<u32>(header, H_NOW_MS), load<u32>(header, H_UNIX_SECONDS));
  const m = dispatchBatch(n);
  const now = load<u32>(header, H_NOW_MS);
  // The earliest of the core's idle sweep, its connection timers, its host calls' timeouts
  // and the protocol's own timeouts: each, if armed, folded in.
  let timer = false;
  let at: u32 = 0;
  if (idleHasDeadline()) {
    at = idleDeadline(now);
    timer = true;
  }
  if (timersArmed()) {
    at = earlier(timer, at, timersEarliest());
    timer = true;
  }
  if (callsPending()) {
    at = earlier(timer, at, callsDeadline());
    timer = true;
  }
  if (hookHasDeadline()) {
    at = earlier(timer, at, hookDeadline(now));
    timer = true;
  }
  if (timer) store<u32>(header, at, H_DEADLINE);
  store<u32>(header, (wantsMore() ? FLAG_MORE : 0) | (timer ? FLAG_TIMER : 0), H_FLAGS);
  store<u32>(header, openConnections(), H_OPEN_CONNS);
  return m;
}

/** Bytes of linear memory the connection buffers and handle table have claimed. */
export function connectionBytes(): usize {
  return reservedBytes();
}

/**
 * Module memory in use: what lives as long as the instance (rings, arena, tables: the
 * bump region) plus blocks handed out and not freed. The rest of linear memory is
 * reserved: grown once and never returned (WebAssembly memory cannot shrink).
 */
export function memoryInUse(): usize {
  return __heap_top() - reservedBytes() + __heap_in_use();
}
