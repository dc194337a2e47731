// Backpressure for what the server sends on its own initiative (JS's sends, broadcasts,
// publishes): a message that finds more than the configured unsent bytes waiting is
// refused, and the connection closes with 1008 (or the message is dropped for it, if so
// configured), so a client that stops reading cannot grow the server's memory. Echoes
// and pongs are not refused: a client that does not read stops being read (output.ts).

import { outBuf } from "../handles";
import { bufLength } from "../buffer";
import { closeNow } from "../output";
import { wsDropOnLimit, wsMaxBuffered } from "../http/config";
import { W_CLOSE_CODE } from "./state";

const CLOSE_POLICY: u16 = 1008;

/** Whether a message may be queued for the connection now; if not and the policy is to close, it is closed. */
export function admits(slot: u32, w: usize): bool {
  if (bufLength(outBuf(slot)) <= wsMaxBuffered()) return true;
  if (!wsDropOnLimit()) {
    // The client is not reading, so a close frame would never get through: drop the
    // connection at once (JS hears 1008), freeing what it held.
    store<u16>(w, CLOSE_POLICY, W_CLOSE_CODE);
    closeNow(slot);
  }
  return false;
}
