// server.broadcast(): a message from JS (EV_WS_BROADCAST pieces, conn 0) framed once,
// then sent to every open WebSocket of the JS protocol. Sending touches each
// connection, and a batch can touch only so many (the dirty list holds EV_CAP), so a
// broadcast goes out in slices, one per batch, asking the host for more batches
// (FLAG_MORE) until it has reached everyone. Broadcasts queue behind each other.
//
//   queued broadcast = next u32 · the frame, header and payload (a buffer, buffer.ts)

import { bufAppend, bufData, bufFree, bufLength } from "../buffer";
import { F_CLOSING, F_OPEN, flags, inBuf, tableCapacity } from "../handles";
import { dirtyRoom, send } from "../output";
import { request } from "../http/conn";
import { writeFrameHeader } from "./frames";
import { isWebSocket, PIECE_FIRST, PIECE_HEADER, PIECE_LAST } from "./js";
import { CLOSE_SENT, W_CLOSE } from "./state";

// Queue head and tail (buffers), the slot the head's sending has reached, the one being built.
const QUEUE = memory.data(16);
const FRAME = memory.data(16);
const LINK = memory.data(4);

export function broadcasting(): bool {
  return load<u32>(QUEUE) != 0;
}

/** A piece from JS: the first starts a frame, the last queues it. */
export function broadcastPiece(p: usize, len: u32): void {
  if (len < PIECE_HEADER) return;
  const flags = load<u32>(p);
  let building = <usize>load<u32>(QUEUE, 12);
  if ((flags & PIECE_FIRST) != 0) {
    bufFree(building);
    store<u32>(LINK, 0);
    building = bufAppend(0, LINK, 4);
    building = bufAppend(building, FRAME, writeFrameHeader(FRAME, <u8>load<u32>(p, 4), load<u32>(p, 8)));
  }
  if (building == 0) return; // a piece without its first: dropped
  building = bufAppend(building, p + PIECE_HEADER, len - PIECE_HEADER);
  store<u32>(QUEUE, <u32>building, 12);
  if ((flags & PIECE_LAST) == 0) return;
  store<u32>(QUEUE, 0, 12);
  const tail = <usize>load<u32>(QUEUE, 4);
  if (tail == 0) {
    store<u32>(QUEUE, <u32>building);
    store<u32>(QUEUE, 0, 8);
  } else {
    store<u32>(bufData(tail), <u32>building);
  }
  store<u32>(QUEUE, <u32>building, 4);
}

/** Sends the head broadcast to as many connections as this batch has room for. */
export function broadcastSome(): void {
  for (let head = <usize>load<u32>(QUEUE); head != 0; head = <usize>load<u32>(QUEUE)) {
    const frame = bufData(head) + 4;
    const frameLen = bufLength(head) - 4;
    let slot = load<u32>(QUEUE, 8);
    const cap = tableCapacity();
    for (; slot < cap && dirtyRoom() > 0; slot++) {
      if ((flags(slot) & (F_OPEN | F_CLOSING)) != F_OPEN || !isWebSocket(slot)) continue;
      if ((load<u8>(request(inBuf(slot)), W_CLOSE) & CLOSE_SENT) == 0) send(slot, frame, frameLen);
    }
    store<u32>(QUEUE, slot, 8);
    if (slot < cap) return; // the batch is full: more next time
    const next = load<u32>(bufData(head));
    store<u32>(QUEUE, next);
    store<u32>(QUEUE, 0, 8);
    if (next == 0) store<u32>(QUEUE, 0, 4);
    bufFree(head); // send() copied the frame for every connection
  }
}
