// The Dispatcher: one call per host loop iteration. It walks the batch of event
// records, finds each connection in the handle table in O(1) (stale ids are
// dropped), runs the protocol's hooks (handler.ts), then flushes every touched
// connection's output into the submission ring and returns how many submissions it wrote.

import { noteAccept } from "./peer";
import {
  EV_ACCEPT, EV_CALL_RESULT, EV_DATA, EV_EOF, EV_ERROR, EV_SENT, EV_SHUTDOWN, EV_WRITABLE, EV_WS_BROADCAST, EV_WS_PUBLISH, NOT_A_RECORD, RECORD_BYTES,
} from "./abi";
import { checkTrapMagic } from "./faults";
import { F_CLOSING, F_OPEN, F_PEER_EOF, flags, findConn, openConn, setFlag, tableCapacity } from "./handles";
import {
  hookData, hookDrain, hookEof, hookHostEvent, hookOpen, hookServerEvent, hookTick, hookWantsMore,
} from "./handler";
import { idleSweep, idleTouch } from "./idle";
import { timersFire } from "./timers";
import { currentRecord } from "./current";
import { callAnswered, callsExpire } from "./calls";
import { fuelRefill } from "./fuel";
import { outboxReset, outboxSubmit } from "./outbox";
import { beginBatch, closeNow, closeWhenFlushed, dirtyRoom, flushBatch, onSent, onWritable, submissionCount } from "./output";

export let evRing: usize = 0;
export let draining = false;
export let drainCursor: u32 = 0;

export function dispatcherInit(ring: usize): void {
  evRing = ring;
}

/** Whether the module needs another dispatch even without events (shutdown, or the protocol's own work). */
export function wantsMore(): bool {
  return draining || hookWantsMore();
}

/** Handles the n records of the ring, publishing the index of each as it is handled (current.ts). */
export function dispatchBatch(n: u32): u32 {
  beginBatch();
  outboxReset();
  // The record being handled goes into the header first: after a trap, the host knows
  // which input was poisoned (rollback isolation, docs/ABI.md).
  for (let i: u32 = 0; i < n; i++) {
    currentRecord(i);
    fuelRefill();
    const r = evRing + <usize>i * RECORD_BYTES;
    handle(load<u32>(r, 0), load<u32>(r, 4), load<u32>(r, 8), load<u32>(r, 12));
  }
  currentRecord(NOT_A_RECORD);
  fuelRefill(); // one budget for the rest of the batch (drain, sweeps, timers, tick)
  if (draining) drainSome();
  idleSweep();
  timersFire();
  callsExpire();
  hookTick();
  flushBatch();
  outboxSubmit(); // last: closes during the flush report to it too
  return submissionCount();
}

function handle(op: u32, id: u32, a: u32, b: u32): void {
  if (op == EV_ACCEPT) {
    const slot = openConn(id);
    idleTouch(slot);
    noteAccept(a, b);
    hookOpen(slot);
    return;
  }
  if (op == EV_SHUTDOWN) {
    draining = true;
    drainCursor = 0;
    return;
  }
  if (op == EV_WS_BROADCAST || op == EV_WS_PUBLISH) {
    hookServerEvent(op, a, b); // from the application, for the whole server
    return;
  }
  const found = findConn(id);
  if (found < 0) return; // stale: the connection closed and its slot moved on
  const slot = <u32>found;
  if (op == EV_DATA) {
    // A closing connection's input is discarded: its handler has given up on it.
    if ((flags(slot) & F_CLOSING) == 0) {
      checkTrapMagic(a, b);
      idleTouch(slot);
      hookData(slot, a, b);
    }
  } else if (op == EV_EOF) {
    setFlag(slot, F_PEER_EOF);
    const eof = hookEof;
    if (eof) eof(slot);
    else closeWhenFlushed(slot);
  } else if (op == EV_ERROR) {
    closeNow(slot);
  } else if (op == EV_WRITABLE) {
    onWritable(slot);
  } else if (op == EV_SENT) {
    onSent(slot, a, b);
  } else if (op == EV_CALL_RESULT) {
    if ((flags(slot) & F_CLOSING) == 0) callAnswered(slot, a, b);
  } else {
    // EV_RESPONSE, EV_WS_SEND, …: the application answering the protocol (docs/ABI.md).
    if ((flags(slot) & F_CLOSING) == 0) hookHostEvent(slot, op, a, b);
  }
}

/** Graceful shutdown, a slice per batch: every open connection closes once flushed. */
function drainSome(): void {
  const cap = tableCapacity();
  while (drainCursor < cap && dirtyRoom() > 0) {
    const slot = drainCursor++;
    if ((flags(slot) & (F_OPEN | F_CLOSING)) != F_OPEN) continue;
    const drain = hookDrain;
    if (drain) drain(slot);
    else closeWhenFlushed(slot);
  }
  if (drainCursor >= cap) draining = false;
}
