// The JS bridge of the ws module, as WebSocket hooks (the SDK's level) and core hooks:
// opens (with the upgrade request), messages, closes and buffered amounts go to the
// outbox for JS; messages and closes from JS arrive as EV_WS_SEND pieces and EV_WS_CLOSE
// and are framed here.
//
//   EV_WS_SEND / EV_WS_BROADCAST piece: flags u32 (1 FIRST, 2 LAST) · opcode u32 · message length u32 · payload
//   EV_WS_CLOSE: code u32 · reason (code 0: terminate, the connection closes at once)
//   EV_WS_SUBSCRIBE: 1 subscribe / 0 unsubscribe u32 · the topic's name (topics.ts)
//
// Send callbacks: with each report of unsent bytes goes the count of payload bytes of
// JS's messages the module has taken so far, so JS knows which of its messages the
// unsent bytes can still hold (src/websocket.ts SendCallbacks).
//
// Backpressure: ws/backpressure.ts.

import { EV_WS_ACCEPT, EV_WS_CLOSE, EV_WS_SEND, EV_WS_SUBSCRIBE } from "../abi";
import { bufData, bufFree, bufLength } from "../buffer";
import { connId, inBuf } from "../handles";
import {
  OUT_WS_BINARY, OUT_WS_BUFFERED, OUT_WS_CLOSED, OUT_WS_DROPPED, OUT_WS_OPEN, OUT_WS_PING, OUT_WS_PONG, OUT_WS_TEXT, OUT_WS_UPGRADE,
  outboxPut, outboxPutWord,
  outboxPutWords, outboxPutWordThen,
} from "../outbox";
import { closeNow, send } from "../output";
import { wsVerifies } from "../http/config";
import { phase, PH_WS, request } from "../http/conn";
import { httpAcceptUpgrade } from "../http/handler";
import { httpHostEvent } from "../http/register";
import { describeRequest } from "../http/request";
import { httpSendCompleted } from "../http/stream";
import { admits } from "./backpressure";
import { closeWith, writeFrameHeader } from "./frames";
import { closingBlock } from "./inmodule";
import { CLOSE_PEER_ERROR, CLOSE_SENT, W_CLOSE, W_CLOSE_PAYLOAD, W_DROPPING, W_JS_TAKEN } from "./state";
import { subscribe, unsubscribe } from "./topics";

export const PIECE_FIRST: u32 = 1;
export const PIECE_LAST: u32 = 2;
export const PIECE_HEADER: u32 = 12;
/** In OUT_WS_CLOSED's code word: the module closed because the client broke the protocol. */
const WS_CLOSED_PEER_ERROR: u32 = 1 << 16;
const FRAME = memory.data(16);

/** A WebSocket opened: JS gets the upgrade request (parsed just now, still in place), unless it had it to verify. */
export function jsOpened(conn: u32): void {
  if (wsVerifies()) return outboxPut(OUT_WS_OPEN, connId(conn), 0, 0);
  jsUpgradeRequest(OUT_WS_OPEN, conn);
}

/** An upgrade waits for verifyClient: JS gets its request. */
export function jsVerify(conn: u32): void {
  jsUpgradeRequest(OUT_WS_UPGRADE, conn);
}

/** The upgrade JS was asked about ended without a WebSocket (refused, timed out, the client left). */
export function jsVerifyAbandoned(conn: u32): void {
  outboxPutWord(OUT_WS_CLOSED, connId(conn), 1006);
}

function jsUpgradeRequest(kind: u32, conn: u32): void {
  const d = describeRequest(0); // an upgrade is never HTTP/1.0
  outboxPut(kind, connId(conn), bufData(d), bufLength(d));
  bufFree(d);
}

/** A whole message from the client: to JS. */
export function jsMessage(conn: u32, data: usize, length: u32, binary: bool): void {
  outboxPut(binary ? OUT_WS_BINARY : OUT_WS_TEXT, connId(conn), data, length);
}

/** A ping from the client (its pong is queued), or a pong: JS's 'ping' and 'pong' events. */
export function jsPing(conn: u32, data: usize, length: u32): void {
  outboxPut(OUT_WS_PING, connId(conn), data, length);
}

export function jsPong(conn: u32, data: usize, length: u32): void {
  outboxPut(OUT_WS_PONG, connId(conn), data, length);
}

/** The connection is gone: JS hears the close code, the client's reason, and whether the client broke the protocol. */
export function jsClosed(conn: u32, code: u32): void {
  const w = closingBlock();
  const flags = (load<u8>(w, W_CLOSE) & CLOSE_PEER_ERROR) != 0 ? WS_CLOSED_PEER_ERROR : 0;
  const payload = <usize>load<u32>(w, W_CLOSE_PAYLOAD); // code and reason; kept only when there is a reason
  const reasonLen = payload == 0 ? 0 : bufLength(payload) - 2;
  outboxPutWordThen(OUT_WS_CLOSED, connId(conn), code | flags, payload == 0 ? 0 : bufData(payload) + 2, reasonLen);
}

/** Whether slot is an upgraded WebSocket. */
export function isWebSocket(slot: u32): bool {
  const k = inBuf(slot);
  return k != 0 && phase(k) == PH_WS;
}

/** A send completed: JS's bufferedAmount is what is still unsent. */
export function jsSendCompleted(slot: u32, unsent: u32): void {
  if (isWebSocket(slot)) outboxPutWords(OUT_WS_BUFFERED, connId(slot), unsent, load<u32>(request(inBuf(slot)), W_JS_TAKEN));
  else httpSendCompleted(slot, unsent);
}

/** From JS: a piece of a response (plain HTTP), or of a WebSocket message, or a close. */
export function jsHostEvent(slot: u32, op: u32, p: usize, len: u32): void {
  if (op == EV_WS_ACCEPT) return httpAcceptUpgrade(slot);
  if (op != EV_WS_SEND && op != EV_WS_CLOSE && op != EV_WS_SUBSCRIBE) return httpHostEvent(slot, op, p, len);
  if (!isWebSocket(slot)) return; // late: the connection is gone or never upgraded
  const w = request(inBuf(slot));
  if (op == EV_WS_SEND) jsSendPiece(slot, w, p, len);
  else if (op == EV_WS_SUBSCRIBE) jsSubscribe(slot, w, p, len);
  else jsClose(slot, w, p, len);
}

/** A piece of a message from JS for this connection. */
function jsSendPiece(slot: u32, w: usize, p: usize, len: u32): void {
  if (len < PIECE_HEADER || (load<u8>(w, W_CLOSE) & CLOSE_SENT) != 0) return;
  const taken = load<u32>(w, W_JS_TAKEN);
  store<u32>(w, taken + len - PIECE_HEADER, W_JS_TAKEN);
  const flags = load<u32>(p);
  if ((flags & PIECE_FIRST) != 0) {
    const admitted = admits(slot, w);
    if (!admitted && !isWebSocket(slot)) return; // closed (its block is freed): later pieces find it gone
    store<u8>(w, admitted ? 0 : 1, W_DROPPING);
    // Dropped: JS fails its send callback (it knows the message by where it ends among its bytes).
    if (!admitted) outboxPutWord(OUT_WS_DROPPED, connId(slot), taken + load<u32>(p, 8));
    if (admitted) send(slot, FRAME, writeFrameHeader(FRAME, <u8>load<u32>(p, 4), load<u32>(p, 8)));
  }
  if (load<u8>(w, W_DROPPING) == 0) send(slot, p + PIECE_HEADER, len - PIECE_HEADER);
}

/** JS subscribes the connection to a topic (1), or unsubscribes it (0): op u32 · the topic's name. */
function jsSubscribe(slot: u32, w: usize, p: usize, len: u32): void {
  if (len < 4) return;
  if (load<u32>(p) != 0) subscribe(slot, w, p + 4, len - 4);
  else unsubscribe(w, p + 4, len - 4);
}

/** JS closes: a close frame with its code and reason, then the connection closes; code 0 (terminate) closes at once. */
function jsClose(slot: u32, w: usize, p: usize, len: u32): void {
  if (len < 4) return;
  const code = load<u32>(p);
  if (code == 0) closeNow(slot);
  else closeWith(slot, w, code, p + 4, len - 4);
}
