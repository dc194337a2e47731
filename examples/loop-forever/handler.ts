// A handler with a bug: on "spin" it loops forever. Everything else is answered. Built by
// `wasm-reactor build`, its loops count against the CPU budget (cpuBudget), so the
// endless one traps instead of hanging the server; rollback isolation then closes only
// the connection that sent "spin", and every other connection carries on.
//
//   npx wasm-reactor build handler.ts -o loop.wasm
//   npx wasm-reactor serve --module loop.wasm --port 9000
//   printf 'spin 5\n' | nc -q 1 127.0.0.1 9000     → spun 5
//   printf 'spin\n' | nc -q 1 127.0.0.1 9000       → (closed: CPU budget exhausted)
export * from "wasm-reactor/assembly/door";
import { onLine } from "wasm-reactor/assembly/sdk/framed";
import { send, sendNumber, sendText } from "wasm-reactor/assembly/sdk/stream";

/** "spin" then optionally " <n>": how many rounds (-1: no number, forever). */
function rounds(line: usize, length: u32): i64 {
  if (length < 4 || load<u32>(line) != 0x6e697073) return -2; // not "spin"
  if (length == 4) return -1;
  let n: i64 = 0;
  for (let i: u32 = 5; i < length; i++) n = n * 10 + (load<u8>(line + i) - 0x30);
  return n;
}

onLine((conn: u32, line: usize, length: u32): void => {
  const n = rounds(line, length);
  if (n == -2) {
    send(conn, line, length + 1); // anything else: echoed
    return;
  }
  let spun: i64 = 0;
  while (n < 0 || spun < n) spun++; // the bug: without a number, this never ends
  sendText(conn, "spun ");
  sendNumber(conn, <u64>spun);
  sendText(conn, "\n");
});
