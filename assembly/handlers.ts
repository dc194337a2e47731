// The Event Handler interface: what a protocol implements, and the switch that
// picks the protocol chosen at init. A protocol gets a connection's input as
// arena slices (onData) and the end of its input (onEof); it answers through
// output.ts (send, closeWhenFlushed) and keeps leftovers in the connection's buffers.

import { PROTOCOL_ECHO, PROTOCOL_HTTP, PROTOCOL_LINE, PROTOCOL_WS, PROTOCOL_WS_ECHO } from "./abi";
import { setWsMode, WS_ECHO, WS_JS } from "./http/config";
import { bufFree } from "./buffer";
import { checkTrapMagic } from "./faults";
import { echoData } from "./echo/handler";
import { inBuf, setInBuf } from "./handles";
import { idleDeadline, idleHasDeadline, idleSweep, idleTouch } from "./idle";
import {
  httpClose, httpData, httpDeadline, httpDrain, httpEof, httpHasTimers, httpOpen, httpResponse, httpSendCompleted,
  httpTick, httpWsEvent,
} from "./http/handler";
import { lineData } from "./line/handler";
import { closeWhenFlushed } from "./output";

export let protocol: u32 = PROTOCOL_ECHO;

export function selectProtocol(p: u32): void {
  assert(p >= PROTOCOL_ECHO && p <= PROTOCOL_WS_ECHO, "unknown protocol");
  // WebSocket is http with upgrades allowed: one handler, the mode says what messages do.
  if (p == PROTOCOL_WS_ECHO) setWsMode(WS_ECHO);
  if (p == PROTOCOL_WS) setWsMode(WS_JS);
  protocol = p == PROTOCOL_WS_ECHO || p == PROTOCOL_WS ? PROTOCOL_HTTP : p;
}

/** A connection was accepted. */
export function onOpen(slot: u32): void {
  if (protocol == PROTOCOL_HTTP) httpOpen(slot);
  else idleTouch(slot);
}

export function onData(slot: u32, ptr: usize, len: u32): void {
  checkTrapMagic(ptr, len);
  if (protocol == PROTOCOL_HTTP) return httpData(slot, ptr, len);
  idleTouch(slot);
  if (protocol == PROTOCOL_LINE) lineData(slot, ptr, len);
  else echoData(slot, ptr, len);
}

/** The peer finished sending: what it asked for is answered, then the connection closes. */
export function onEof(slot: u32): void {
  if (protocol == PROTOCOL_HTTP) httpEof(slot);
  else closeWhenFlushed(slot);
}

/**
 * The connection is closing for good: free the protocol's input state (the handle's
 * input word is echo's and line's leftover buffer, and http's connection block).
 */
export function onClose(slot: u32): void {
  if (protocol == PROTOCOL_HTTP) httpClose(slot);
  else bufFree(inBuf(slot));
  setInBuf(slot, 0);
}

/** Graceful shutdown reached the connection: close it once what it owes is sent. */
export function onDrain(slot: u32): void {
  if (protocol == PROTOCOL_HTTP) httpDrain(slot);
  else closeWhenFlushed(slot);
}

/** An answer from the host's handler (http's JS handler): EV_RESPONSE. */
export function onResponse(slot: u32, ptr: usize, len: u32): void {
  if (protocol == PROTOCOL_HTTP) httpResponse(slot, ptr, len);
}

/** A WebSocket message piece or close from JS (EV_WS_SEND, EV_WS_CLOSE). */
export function onWsEvent(slot: u32, op: u32, ptr: usize, len: u32): void {
  if (protocol == PROTOCOL_HTTP) httpWsEvent(slot, op, ptr, len);
}

/** A send completed (EV_SENT) with `unsent` bytes left. */
export function onSendCompleted(slot: u32, unsent: u32): void {
  if (protocol == PROTOCOL_HTTP) httpSendCompleted(slot, unsent);
}

/** After the batch's events: timeouts that have come. */
export function onTick(): void {
  if (protocol == PROTOCOL_HTTP) httpTick();
  else idleSweep();
}

/** Whether the protocol has a timeout armed; then deadline() is the earliest. */
export function hasDeadline(): bool {
  return protocol == PROTOCOL_HTTP ? httpHasTimers() : idleHasDeadline();
}

export function deadline(now: u32): u32 {
  return protocol == PROTOCOL_HTTP ? httpDeadline(now) : idleDeadline(now);
}
