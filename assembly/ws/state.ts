// Per-connection WebSocket state: a 64-byte block allocated at the upgrade, pointed to
// from the HTTP connection block (http/conn.ts request word), so a connection that
// never upgrades pays nothing for it.
//
//   0 frame state u8 · 1 header bytes had u8 · 2 header bytes needed u8 · 3 mask offset u8
//   4 frame header (14 bytes) · 18 frame opcode u8 · 19 FIN u8 · 20 message opcode u8 · 21 close flags u8
//  24 payload bytes left in the frame · 28 masking key · 32 message buffer · 36 control payload buffer
//  40 UTF-8 validator state · 44 message length so far · 48 close code u16 · 50 dropping u8
//  52 the client's close frame payload (a buffer: code and reason) · 56 payload bytes of JS's messages taken (mod 2^32)
//  60 the topics it subscribes to (a buffer: topics.ts)

import { allocBlock, classOf, freeBlock } from "../alloc";
import { bufFree } from "../buffer";

const WS_BLOCK_BYTES: u32 = 64;

export const FS_HEADER: u8 = 0;
export const FS_PAYLOAD: u8 = 1;

// Close flags.
export const CLOSE_SENT: u8 = 1;
export const CLOSE_PEER_ERROR: u8 = 2; // we closed because the client broke the protocol (JS's 'error' event)

export const W_STATE: usize = 0;
export const W_HAVE: usize = 1;
export const W_NEED: usize = 2;
export const W_MASK_OFFSET: usize = 3;
export const W_HEADER: usize = 4;
export const W_OPCODE: usize = 18;
export const W_FIN: usize = 19;
export const W_MESSAGE_OPCODE: usize = 20;
export const W_CLOSE: usize = 21;
export const W_LEFT: usize = 24;
export const W_MASK: usize = 28;
export const W_MESSAGE: usize = 32;
export const W_CONTROL: usize = 36;
export const W_UTF8: usize = 40;
export const W_MESSAGE_LEN: usize = 44;
export const W_CLOSE_CODE: usize = 48; // u16: the code of the close frame received or sent first
export const W_DROPPING: usize = 50; // u8: the message JS is sending was refused (backpressure)
export const W_CLOSE_PAYLOAD: usize = 52; // buffer: the first close frame the client sent, for its reason
export const W_JS_TAKEN: usize = 56; // u32: payload bytes of JS's messages the module has taken, for send callbacks
export const W_TOPICS: usize = 60; // buffer: the topics it subscribes to (topics.ts)

export function wsBlockNew(): usize {
  const w = allocBlock(WS_BLOCK_BYTES);
  memory.fill(w, 0, WS_BLOCK_BYTES);
  store<u8>(w, 2, W_NEED);
  return w;
}

export function wsBlockFree(w: usize): void {
  bufFree(load<u32>(w, W_MESSAGE));
  bufFree(load<u32>(w, W_CONTROL));
  bufFree(load<u32>(w, W_CLOSE_PAYLOAD));
  freeBlock(w, classOf(WS_BLOCK_BYTES));
}
