// echo: every byte back, in order. The reply is the arena slice the kernel wrote,
// so echo sends without copying; output.ts keeps what the socket does not take.

import { send } from "../output";

export function echoData(slot: u32, ptr: usize, len: u32): void {
  send(slot, ptr, len);
}
