// The outbox: what the module has to tell the host's JavaScript in this batch (HTTP
// requests for the JS handler; WebSocket opens, messages, closes, buffered amounts), as one run of entries handed
// over with a single OP_OUTBOX submission at the end of the batch. One submission
// however many messages arrive, so the submission ring's bound holds; the host copies
// the entries before the next dispatch, which reuses the buffer.
//
//   entry = kind u32 · conn u32 · length u32 · payload (padded to 4 bytes)
// Payloads are copied in, so nothing else has to outlive the batch.

import { OP_OUTBOX } from "./abi";
import { bufAppend, bufConsume, bufData, bufLength } from "./buffer";
import { submit } from "./output";

export const OUT_WS_OPEN: u32 = 1; // payload: the upgrade request (http/request.ts format)
export const OUT_WS_TEXT: u32 = 2;
export const OUT_WS_BINARY: u32 = 3;
export const OUT_WS_CLOSED: u32 = 4; // payload: code u32 (| WS_CLOSED_PEER_ERROR) · the client's close reason
export const OUT_WS_BUFFERED: u32 = 5; // payload: unsent bytes u32 · JS payload bytes taken u32 (mod 2^32), after a send completed
export const OUT_HTTP_REQUEST: u32 = 6; // payload: a whole request (http/request.ts format)
export const OUT_HOST_CALL: u32 = 7; // payload: call id u32 · name length u32 · name · data (calls.ts)
export const OUT_HTTP_BODY: u32 = 8; // payload: a piece of a streamed request's body; empty: the body is complete
export const OUT_HTTP_FLOW: u32 = 9; // payload: response bytes consumed u32 · unsent bytes u32 (http/stream.ts)
export const OUT_HTTP_CLOSED: u32 = 10; // payload: why u32 (HTTP_CLOSED_*): a streamed request's connection ended before its exchange did
export const OUT_CONN_PEER: u32 = 11; // payload: the ACCEPT record's a and b (listener | port << 16, IPv4 address)
export const OUT_WS_PING: u32 = 12; // payload: a ping's data (its pong is already queued)
export const OUT_WS_PONG: u32 = 13; // payload: a pong's data
export const OUT_WS_UPGRADE: u32 = 14; // payload: an upgrade request waiting for JS's verdict (http/request.ts format)
export const OUT_WS_PUBLISH_DROPPED: u32 = 16; // conn 0, payload: the bytes queued for fan-out when publishes began to be dropped
export const OUT_WS_DROPPED: u32 = 15; // payload: where the dropped message ends in the JS payload bytes taken u32 (onBackpressure "drop")

const STATE = memory.data(4); // the outbox buffer
const ENTRY = memory.data(12);
const PAD = memory.data(4);
const PAIR = memory.data(8);

export function outboxPut(kind: u32, conn: u32, p: usize, len: u32): void {
  outboxPutAfterWords(kind, conn, 0, p, len);
}

/** An entry whose payload is the first `words` words of PAIR, then len bytes at p. */
function outboxPutAfterWords(kind: u32, conn: u32, words: u32, p: usize, len: u32): void {
  store<u32>(ENTRY, kind);
  store<u32>(ENTRY, conn, 4);
  store<u32>(ENTRY, (words << 2) + len, 8);
  let box = bufAppend(load<u32>(STATE), ENTRY, 12);
  if (words != 0) box = bufAppend(box, PAIR, words << 2);
  box = bufAppend(box, p, len);
  if ((len & 3) != 0) box = bufAppend(box, PAD, 4 - (len & 3));
  store<u32>(STATE, <u32>box);
}

/** An entry whose payload is one word, then len bytes at p. */
export function outboxPutWordThen(kind: u32, conn: u32, word: u32, p: usize, len: u32): void {
  store<u32>(PAIR, word);
  outboxPutAfterWords(kind, conn, 1, p, len);
}

export function outboxPutWord(kind: u32, conn: u32, word: u32): void {
  store<u32>(PAD, word);
  outboxPut(kind, conn, PAD, 4);
  store<u32>(PAD, 0);
}

export function outboxPutWords(kind: u32, conn: u32, a: u32, b: u32): void {
  store<u32>(PAIR, a);
  store<u32>(PAIR, b, 4);
  outboxPutAfterWords(kind, conn, 2, 0, 0);
}

/** At the end of the batch: hand the entries over, if there are any. */
export function outboxSubmit(): void {
  const box = load<u32>(STATE);
  if (bufLength(box) != 0) submit(OP_OUTBOX, 0, <u32>bufData(box), bufLength(box));
}

/** At the start of a batch: the host has copied the last one's entries. */
export function outboxReset(): void {
  const box = load<u32>(STATE);
  if (box != 0) bufConsume(box, bufLength(box));
}
