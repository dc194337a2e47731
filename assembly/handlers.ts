// The Event Handler interface: what a protocol implements, and the switch that
// picks the protocol chosen at init. A protocol gets a connection's input as
// arena slices (onData) and the end of its input (onEof); it answers through
// output.ts (send, closeWhenFlushed) and keeps leftovers in the connection's buffers.

import { PROTOCOL_ECHO, PROTOCOL_LINE } from "./abi";
import { checkTrapMagic } from "./faults";
import { echoData } from "./echo/handler";
import { lineData } from "./line/handler";
import { closeWhenFlushed } from "./output";

export let protocol: u32 = PROTOCOL_ECHO;

export function selectProtocol(p: u32): void {
  assert(p == PROTOCOL_ECHO || p == PROTOCOL_LINE, "unknown protocol");
  protocol = p;
}

export function onData(slot: u32, ptr: usize, len: u32): void {
  checkTrapMagic(ptr, len);
  if (protocol == PROTOCOL_LINE) lineData(slot, ptr, len);
  else echoData(slot, ptr, len);
}

/** The peer finished sending: both protocols answer what they have, then close. */
export function onEof(slot: u32): void {
  closeWhenFlushed(slot);
}
