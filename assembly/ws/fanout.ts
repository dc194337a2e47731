// Fan-out: one message framed once and sent to many WebSockets — every open one
// (server.broadcast) or a topic's subscribers (server.publish, ws.publish, the SDK's
// publish; topics.ts). Sending touches each connection, and a batch can touch only so
// many (the dirty list holds EV_CAP), so a message goes out in slices, one per batch,
// asking the host for more batches (FLAG_MORE) until it has reached everyone. Messages
// queue behind each other, so every subscriber hears them in the order they were published.
//
//   queued message = next u32 · audience u32 (a copy of the topic's subscribers when it was
//                    published, or 0: every WebSocket) · skip u32 (a conn id left out, or 0) · the frame
//
// A receiver past the unsent limit is treated as any send to it is (backpressure.ts): the
// message is dropped for it, or it is closed with 1008, so a slow one cannot grow memory.
// Each batch copies the frame into the reply arena once, so receivers with nothing unsent
// take it straight from there: one OP_SEND each, no copy.
//
// The queue itself is bounded too. Messages can arrive faster than a batch's room drains
// them (a chat client flooding a big room: each of its messages becomes a publish to
// thousands), so past maxBufferedAmount of queued bytes, every WebSocket that sends
// something is not read any further (holdIfCongested) until the queue is below a quarter
// of it; publishes arriving while it is over four times that (and at least 64 MiB: what
// JS publishes from the messages already read still has room) are dropped and reported.

import { bufAppend, bufConsume, bufData, bufFree, bufLength } from "../buffer";
import { clearFlag, connId, F_CLOSING, F_HOLD_IN, F_OPEN, findConn, flags, hasFlag, inBuf, setFlag, tableCapacity } from "../handles";
import { dirtyRoom, markDirty, reserveReply, send } from "../output";
import { OUT_WS_PUBLISH_DROPPED, outboxPutWord } from "../outbox";
import { request } from "../http/conn";
import { threadIndex, wsMaxBuffered } from "../http/config";
import { admits } from "./backpressure";
import { writeFrameHeader } from "./frames";
import { isWebSocket, PIECE_FIRST, PIECE_HEADER, PIECE_LAST } from "./js";
import { CLOSE_SENT, W_CLOSE } from "./state";
import { SUBSCRIBER_ENTRY_BYTES, subscribersNamed } from "./topics";

const Q_NEXT: usize = 0;
const Q_AUDIENCE: usize = 4;
const Q_SKIP: usize = 8;
const Q_FRAME: u32 = 12;
// A publish piece's first words after the piece header: topic length u32 · the conn id to skip u32
// · its sub-reactor u32 (a publish from JS reaches every sub-reactor; one of them has that connection), then the topic.
const PUBLISH_HEADER: u32 = 12;

// Queue head and tail (buffers), how far the head's sending has reached, the message being built.
const QUEUE = memory.data(16);
// Bytes queued (messages and their audiences), publishes dropped in this congestion, the held connections (a buffer of ids).
const LOAD = memory.data(12);
const DROP_FLOOR: u64 = 64 << 20;
const SCRATCH = memory.data(16);

export function fanningOut(): bool {
  return load<u32>(QUEUE) != 0 || bufLength(load<u32>(LOAD, 8)) != 0;
}

@inline function queuedBytes(): u32 {
  return load<u32>(LOAD);
}

function messageBytes(m: usize): u32 {
  return bufLength(m) + bufLength(load<u32>(bufData(m), Q_AUDIENCE));
}

/** A WebSocket sent something while the queue is congested: it is not read any further until the queue drains. */
export function holdIfCongested(slot: u32): void {
  if (queuedBytes() <= wsMaxBuffered() || hasFlag(slot, F_HOLD_IN)) return;
  setFlag(slot, F_HOLD_IN);
  markDirty(slot);
  store<u32>(SCRATCH, connId(slot));
  store<u32>(LOAD, <u32>bufAppend(load<u32>(LOAD, 8), SCRATCH, 4), 8);
}

/** The queue has drained: the held connections are read again, as many as this batch may touch. */
function releaseHeld(): void {
  const held = <usize>load<u32>(LOAD, 8);
  if (held == 0 || queuedBytes() > wsMaxBuffered() / 4) return;
  while (bufLength(held) != 0 && dirtyRoom() > 0) {
    const slot = findConn(load<u32>(bufData(held)));
    bufConsume(held, 4);
    if (slot < 0) continue;
    clearFlag(<u32>slot, F_HOLD_IN);
    markDirty(<u32>slot);
  }
  if (bufLength(held) != 0) return;
  bufFree(held);
  store<u32>(LOAD, 0, 8);
  store<u32>(LOAD, 0, 4); // the congestion is over: a later one reports its drops again
}

/** Whether a new message must be dropped: the queue is far over its bound. JS hears of the first drop of a congestion. */
function overflowing(): bool {
  if (<u64>queuedBytes() <= max<u64>(<u64>wsMaxBuffered() * 4, DROP_FLOOR)) return false;
  const dropped = load<u32>(LOAD, 4) + 1;
  store<u32>(LOAD, dropped, 4);
  if (dropped == 1) outboxPutWord(OUT_WS_PUBLISH_DROPPED, 0, queuedBytes());
  return true;
}

/** A message to queue: its audience (0: everyone) and the connection to skip; returns the buffer to append the payload to. */
function begin(opcode: u8, length: u32, audience: usize, skip: u32): usize {
  store<u32>(SCRATCH, 0, Q_NEXT);
  store<u32>(SCRATCH, <u32>audience, Q_AUDIENCE);
  store<u32>(SCRATCH, skip, Q_SKIP);
  const m = bufAppend(0, SCRATCH, Q_FRAME);
  return bufAppend(m, SCRATCH, writeFrameHeader(SCRATCH, opcode, length));
}

function enqueue(m: usize): void {
  store<u32>(LOAD, queuedBytes() + messageBytes(m));
  const tail = <usize>load<u32>(QUEUE, 4);
  if (tail == 0) {
    store<u32>(QUEUE, <u32>m);
    store<u32>(QUEUE, 0, 8);
  } else {
    store<u32>(bufData(tail), <u32>m, Q_NEXT);
  }
  store<u32>(QUEUE, <u32>m, 4);
}

/**
 * A piece from JS (EV_WS_BROADCAST, or EV_WS_PUBLISH whose first piece names the topic and
 * a connection to skip): the first starts a message, the last queues it. A message for a
 * topic nobody subscribes to is dropped, and so are its later pieces.
 */
export function fanOutPiece(publish: bool, p: usize, len: u32): void {
  if (len < PIECE_HEADER) return;
  const flags = load<u32>(p);
  let building = <usize>load<u32>(QUEUE, 12);
  let data = p + PIECE_HEADER;
  let dataLen = len - PIECE_HEADER;
  if ((flags & PIECE_FIRST) != 0) {
    freeMessage(building);
    building = 0;
    if (overflowing()) return store<u32>(QUEUE, 0, 12);
    let audience: usize = 0;
    let skip: u32 = 0;
    if (publish) {
      if (dataLen < PUBLISH_HEADER || load<u32>(data) > dataLen - PUBLISH_HEADER) return store<u32>(QUEUE, 0, 12);
      const topicLen = load<u32>(data);
      skip = load<u32>(data, 8) == threadIndex() ? load<u32>(data, 4) : 0;
      const subscribers = subscribersNamed(data + PUBLISH_HEADER, topicLen);
      if (subscribers == 0) return store<u32>(QUEUE, 0, 12); // nobody listens: the message goes nowhere
      audience = bufAppend(0, bufData(subscribers), bufLength(subscribers));
      data += PUBLISH_HEADER + topicLen;
      dataLen -= PUBLISH_HEADER + topicLen;
    }
    building = begin(<u8>load<u32>(p, 4), load<u32>(p, 8), audience, skip);
  }
  if (building == 0) return; // a piece without its first, or of a message dropped
  building = bufAppend(building, data, dataLen);
  if ((flags & PIECE_LAST) == 0) return store<u32>(QUEUE, <u32>building, 12);
  store<u32>(QUEUE, 0, 12);
  enqueue(building);
}

/** A whole message from the module's own handler (the SDK's publish): queued for the topic's subscribers, if any. */
export function publishFromModule(topic: usize, topicLen: u32, opcode: u8, data: usize, length: u32): void {
  const subscribers = subscribersNamed(topic, topicLen);
  if (subscribers == 0 || overflowing()) return;
  const m = begin(opcode, length, bufAppend(0, bufData(subscribers), bufLength(subscribers)), 0);
  enqueue(bufAppend(m, data, length));
}

function freeMessage(m: usize): void {
  if (m == 0) return;
  bufFree(load<u32>(bufData(m), Q_AUDIENCE));
  bufFree(m);
}

/** Sends the queued messages to as many receivers as this batch has room for. */
export function fanOutSome(): void {
  for (let head = <usize>load<u32>(QUEUE); head != 0; head = <usize>load<u32>(QUEUE)) {
    const m = bufData(head);
    let frame = m + Q_FRAME;
    const frameLen = bufLength(head) - Q_FRAME;
    const inReplyArena = reserveReply(frameLen);
    if (inReplyArena != 0) {
      memory.copy(inReplyArena, frame, frameLen);
      frame = inReplyArena;
    }
    const audience = <usize>load<u32>(m, Q_AUDIENCE);
    const skip = load<u32>(m, Q_SKIP);
    const end = audience == 0 ? tableCapacity() : bufLength(audience) / SUBSCRIBER_ENTRY_BYTES;
    let at = load<u32>(QUEUE, 8);
    for (; at < end && dirtyRoom() > 0; at++) {
      let slot: i32;
      if (audience == 0) {
        slot = <i32>at;
      } else {
        const conn = load<u32>(bufData(audience) + <usize>at * SUBSCRIBER_ENTRY_BYTES);
        slot = conn == skip ? -1 : findConn(conn);
      }
      if (slot >= 0) deliver(<u32>slot, frame, frameLen);
    }
    store<u32>(QUEUE, at, 8);
    if (at < end) return; // the batch is full: more next time
    const next = load<u32>(m, Q_NEXT);
    store<u32>(QUEUE, next);
    store<u32>(QUEUE, 0, 8);
    if (next == 0) store<u32>(QUEUE, 0, 4);
    store<u32>(LOAD, queuedBytes() - messageBytes(head));
    freeMessage(head); // send() copied or referenced the frame for every receiver
  }
  releaseHeld();
}

function deliver(slot: u32, frame: usize, frameLen: u32): void {
  if ((flags(slot) & (F_OPEN | F_CLOSING)) != F_OPEN || !isWebSocket(slot)) return;
  const w = request(inBuf(slot));
  if ((load<u8>(w, W_CLOSE) & CLOSE_SENT) == 0 && admits(slot, w)) send(slot, frame, frameLen);
}
