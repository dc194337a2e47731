// The Event Handler interface: what a protocol implements, and the switch that
// picks the protocol chosen at init. A protocol gets a connection's input as
// arena slices (onData) and the end of its input (onEof); it answers through
// output.ts (send, closeWhenFlushed) and keeps leftovers in the connection's buffers.

import { PROTOCOL_ECHO, PROTOCOL_HTTP, PROTOCOL_LINE, PROTOCOL_WS_ECHO } from "./abi";
import { setWsMode, WS_ECHO } from "./http/config";
import { bufFree } from "./buffer";
import { checkTrapMagic } from "./faults";
import { echoData } from "./echo/handler";
import { inBuf, setInBuf } from "./handles";
import {
  httpClose, httpData, httpDeadline, httpDrain, httpEof, httpHasTimers, httpOpen, httpResponse, httpTick,
} from "./http/handler";
import { lineData } from "./line/handler";
import { closeWhenFlushed } from "./output";

export let protocol: u32 = PROTOCOL_ECHO;

export function selectProtocol(p: u32): void {
  assert(p == PROTOCOL_ECHO || p == PROTOCOL_LINE || p == PROTOCOL_HTTP || p == PROTOCOL_WS_ECHO, "unknown protocol");
  // WebSocket is http with upgrades allowed: one handler, the mode says what messages do.
  if (p == PROTOCOL_WS_ECHO) setWsMode(WS_ECHO);
  protocol = p == PROTOCOL_WS_ECHO ? PROTOCOL_HTTP : p;
}

/** A connection was accepted. */
export function onOpen(slot: u32): void {
  if (protocol == PROTOCOL_HTTP) httpOpen(slot);
}

export function onData(slot: u32, ptr: usize, len: u32): void {
  checkTrapMagic(ptr, len);
  if (protocol == PROTOCOL_HTTP) httpData(slot, ptr, len);
  else if (protocol == PROTOCOL_LINE) lineData(slot, ptr, len);
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

/** After the batch's events: timeouts that have come. */
export function onTick(): void {
  if (protocol == PROTOCOL_HTTP) httpTick();
}

/** Whether the protocol has a timeout armed; then deadline() is the earliest. */
export function hasDeadline(): bool {
  return protocol == PROTOCOL_HTTP && httpHasTimers();
}

export function deadline(now: u32): u32 {
  return httpDeadline(now);
}
