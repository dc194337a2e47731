// Fault injection, off unless the host asks for it at init: lets tests (and users
// checking their supervision) provoke a real trap from the network and watch the host
// contain it. The magic must arrive at the start of one read.

export let trapOnMagic = false;
const MAGIC = "wasm-reactor:trap!";

export function enableTrapOnMagic(): void {
  trapOnMagic = true;
}

export function checkTrapMagic(ptr: usize, len: u32): void {
  if (!trapOnMagic || len < <u32>MAGIC.length) return;
  for (let i = 0; i < MAGIC.length; i++) {
    if (<i32>load<u8>(ptr + i) != MAGIC.charCodeAt(i)) return;
  }
  abort("trap requested by input (fault injection)");
}
