// Requests streamed to the host's handler (OPT_JS_HANDLER 2: a 'request' listener), as
// node:http streams them: the head goes to JS as soon as it is parsed, the body follows
// in pieces as it arrives, and the answer may start before the body ends. Flow control
// both ways keeps module memory bounded by small windows, whatever the body sizes
// (WebAssembly memory never shrinks):
//   - in: body bytes handed to JS and not yet read there (EV_BODY_READ) are counted; past
//     BODY_WINDOW the socket stops being read until JS catches up;
//   - out: after each piece of the answer and each completed send, JS hears how many
//     piece bytes were consumed and how many bytes are still unsent (OUT_HTTP_FLOW), so
//     res.write() can say "wait" and 'drain' and 'finish' come when the socket took them.
// If the connection ends first (the client left, a timeout), JS hears OUT_HTTP_CLOSED.
//
//   OUT_HTTP_REQUEST descriptor (request.ts's format) with REQ_STREAMED: its body length
//   is the Content-Length, 0 for none, BODY_CHUNKED for a chunked body.

import { bufData, bufFree, bufLength } from "../buffer";
import { connId, F_HOLD_IN, hasFlag, inBuf, outBuf, clearFlag, setFlag } from "../handles";
import { markDirty } from "../output";
import {
  OUT_CONN_PEER, OUT_HTTP_BODY, OUT_HTTP_CLOSED, OUT_HTTP_FLOW, OUT_HTTP_REQUEST, outboxPut, outboxPutWord, outboxPutWords,
} from "../outbox";
import { acceptedAddress, acceptedListenerAndPort } from "../peer";
import { handlerStreams } from "./config";
import {
  addConnFlags, bodyInFlight, CF_JS_FLOW, clearReqFlags, connFlags, input, phase, PH_BODY, PH_CHUNKED, PH_WAIT_ANSWER,
  reqFlags, RF_ANSWERED, RF_STREAMED, setBodyInFlight, PH_VERIFY,
} from "./conn";
import { describeRequest } from "./request";

export const REQ_STREAMED: u32 = 8;
export const BODY_CHUNKED: u32 = 0xffffffff;
// Why a streamed exchange ended early (OUT_HTTP_CLOSED's word).
export const HTTP_CLOSED_GONE: u32 = 0; // the connection closed (the client left, or an error)
export const HTTP_CLOSED_REQUEST_TIMEOUT: u32 = 1; // the request did not arrive in time (408)
export const HTTP_CLOSED_ANSWER_TIMEOUT: u32 = 2; // the handler was silent too long (503, or a cut response)
export const HTTP_CLOSED_BAD_BODY: u32 = 3; // the body broke the protocol (400) or a limit (413)

// Body bytes JS may hold unread before the socket stops being read.
const BODY_WINDOW: u32 = 256 << 10;
// Input buffered behind a request the JS handler has, past which reading stops.
const HOLD_INPUT_BYTES: u32 = 64 * 1024;

// Whether JS hears every connection's peer even without streaming (the ws module: the upgrade request's socket).
const PEERS_TO_JS = memory.data(4);

export function reportPeers(): void {
  store<u32>(PEERS_TO_JS, 1);
}

/** A connection opened: with streaming on, JS hears its peer (for req.socket). */
export function streamOpened(slot: u32): void {
  if (load<u32>(PEERS_TO_JS) != 0 || handlerStreams()) outboxPutWords(OUT_CONN_PEER, connId(slot), acceptedListenerAndPort(), acceptedAddress());
}

/** The head was parsed: JS gets it now; `bodyLength` is the Content-Length, 0, or BODY_CHUNKED. */
export function streamBegin(slot: u32, k: usize, flags: u32, bodyLength: u32): void {
  const d = describeRequest(flags | REQ_STREAMED);
  store<u32>(bufData(d), bodyLength, 16);
  outboxPut(OUT_HTTP_REQUEST, connId(slot), bufData(d), bufLength(d));
  bufFree(d);
  setBodyInFlight(k, 0);
  addConnFlags(k, CF_JS_FLOW);
}

/** A piece of the body: to JS, unless the answer has already ended (then it is dropped). */
export function streamBody(slot: u32, k: usize, p: usize, len: u32): void {
  if ((reqFlags(k) & RF_ANSWERED) != 0 || len == 0) return;
  outboxPut(OUT_HTTP_BODY, connId(slot), p, len);
  setBodyInFlight(k, bodyInFlight(k) + len);
}

/** The body is complete (an empty OUT_HTTP_BODY). */
export function streamBodyEnd(slot: u32): void {
  outboxPut(OUT_HTTP_BODY, connId(slot), 0, 0);
}

/** EV_BODY_READ: JS read `n` bytes of the body. */
export function streamBodyRead(k: usize, n: u32): void {
  const held = bodyInFlight(k);
  setBodyInFlight(k, n >= held ? 0 : held - n);
}

/** The exchange is over on both sides (answer ended, body read whole): nothing more to tell JS. */
export function streamDone(k: usize): void {
  clearReqFlags(k, RF_STREAMED);
}

/** Whether JS holds a streamed request on this connection whose exchange is not over. */
@inline export function streaming(k: usize): bool {
  return (reqFlags(k) & RF_STREAMED) != 0;
}

/** The connection ends (or gives up on the request) before the exchange did: JS hears why. */
export function streamAbandon(slot: u32, k: usize, why: u32): void {
  if (!streaming(k)) return;
  clearReqFlags(k, RF_STREAMED);
  outboxPutWord(OUT_HTTP_CLOSED, connId(slot), why);
}

/** After a piece of the answer: `consumed` piece bytes taken, and what is left unsent. */
export function streamAnswered(slot: u32, consumed: u32): void {
  outboxPutWords(OUT_HTTP_FLOW, connId(slot), consumed, bufLength(outBuf(slot)));
}

/** A send completed (EV_SENT): a connection JS streams on hears what is still unsent. */
export function httpSendCompleted(slot: u32, unsent: u32): void {
  const k = inBuf(slot);
  if (k != 0 && (connFlags(k) & CF_JS_FLOW) != 0) outboxPutWords(OUT_HTTP_FLOW, connId(slot), 0, unsent);
}

/**
 * Whether the socket should stop being read: JS holds a window of unread body, or
 * requests pipelined behind one the handler has pile up.
 */
export function updateHold(slot: u32, k: usize): void {
  const ph = phase(k);
  const hold = ((ph == PH_WAIT_ANSWER || ph == PH_VERIFY) && bufLength(input(k)) > HOLD_INPUT_BYTES)
    || ((reqFlags(k) & (RF_STREAMED | RF_ANSWERED)) == RF_STREAMED && (ph == PH_BODY || ph == PH_CHUNKED)
      && bodyInFlight(k) >= BODY_WINDOW);
  if (hold == hasFlag(slot, F_HOLD_IN)) return;
  if (hold) setFlag(slot, F_HOLD_IN);
  else clearFlag(slot, F_HOLD_IN);
  markDirty(slot);
}

/** Whether the body waits on JS (the window is full): the handler's silence, not the client's. */
export function bodyWaitsOnJs(slot: u32): bool {
  return hasFlag(slot, F_HOLD_IN);
}
