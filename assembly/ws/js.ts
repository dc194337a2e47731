// WebSocket connections whose messages JS handles (protocol ws): opens, messages,
// closes and buffered amounts go to the outbox; messages from JS arrive as EV_WS_SEND
// pieces and are framed here.
//
//   EV_WS_SEND / EV_WS_BROADCAST piece: flags u32 (1 FIRST, 2 LAST) · opcode u32 · message length u32 · payload
//   EV_WS_CLOSE: code u32 · reason
//
// Backpressure: a message that finds more than the configured unsent bytes waiting is
// refused, and the connection closes with 1008 (or the message is dropped, if so
// configured), so a client that stops reading cannot grow the server's memory.

import { bufLength } from "../buffer";
import { connId, outBuf } from "../handles";
import { OUT_WS_BINARY, OUT_WS_BUFFERED, OUT_WS_CLOSED, OUT_WS_TEXT, outboxPut, outboxPutWord } from "../outbox";
import { closeNow, send } from "../output";
import { wsDropOnLimit, wsMaxBuffered } from "../http/config";
import { closeWith, OP_PING, OP_TEXT, writeFrameHeader } from "./frames";
import { CLOSE_SENT, W_CLOSE, W_CLOSE_CODE, W_DROPPING } from "./state";

export const PIECE_FIRST: u32 = 1;
export const PIECE_LAST: u32 = 2;
export const PIECE_HEADER: u32 = 12;
const CLOSE_POLICY: u32 = 1008;
const FRAME = memory.data(16);

/** A whole message from the client: to JS. */
export function jsMessage(slot: u32, opcode: u8, p: usize, len: u32, headroom: u32): void {
  if (opcode == OP_PING) return; // answered with its pong already; JS is not told
  outboxPut(opcode == OP_TEXT ? OUT_WS_TEXT : OUT_WS_BINARY, connId(slot), p, len);
}

/** The connection is gone: JS hears the close code (1006 if no close frame was exchanged). */
export function jsClosed(slot: u32, w: usize): void {
  const code = load<u16>(w, W_CLOSE_CODE);
  outboxPutWord(OUT_WS_CLOSED, connId(slot), code != 0 ? code : 1006);
}

/** A send completed: JS's bufferedAmount is what is still unsent. */
export function jsBuffered(slot: u32, unsent: u32): void {
  outboxPutWord(OUT_WS_BUFFERED, connId(slot), unsent);
}

/** A piece of a message from JS for this connection. */
export function jsSendPiece(slot: u32, w: usize, p: usize, len: u32): void {
  if (len < PIECE_HEADER || (load<u8>(w, W_CLOSE) & CLOSE_SENT) != 0) return;
  const flags = load<u32>(p);
  if ((flags & PIECE_FIRST) != 0) {
    const refused = bufLength(outBuf(slot)) > wsMaxBuffered();
    store<u8>(w, refused ? 1 : 0, W_DROPPING);
    if (refused && !wsDropOnLimit()) {
      // The client is not reading, so a close frame would never get through: drop the
      // connection at once (JS hears 1008), freeing what it held.
      store<u16>(w, <u16>CLOSE_POLICY, W_CLOSE_CODE);
      return closeNow(slot);
    }
    if (!refused) send(slot, FRAME, writeFrameHeader(FRAME, <u8>load<u32>(p, 4), load<u32>(p, 8)));
  }
  if (load<u8>(w, W_DROPPING) == 0) send(slot, p + PIECE_HEADER, len - PIECE_HEADER);
}

/** JS closes: a close frame with its code and reason, then the connection closes. */
export function jsClose(slot: u32, w: usize, p: usize, len: u32): void {
  if (len >= 4) closeWith(slot, w, load<u32>(p), p + 4, len - 4);
}
