// http: HTTP/1.1 requests answered from the static route table (routes.ts), with
// keep-alive, pipelining (responses leave in request order because each request is
// answered when it has been read whole, before the next one is looked at) and the
// limits of config.ts. A request may arrive a byte at a time or many in one read:
// whatever is left of an unfinished request waits in the connection's input buffer.

import { bufAppend, bufConsume, bufData, bufFree, bufLength } from "../buffer";
import { inBuf, setInBuf } from "../handles";
import { closeNow, closeWhenFlushed, dirtyRoom, send } from "../output";
import { CR, LF } from "./bytes";
import {
  CHUNKED_DATA, CHUNKED_DONE, chunkedFeed, chunkedStart, chunkedStatus, consumed, dataLen, dataPtr,
} from "./chunked";
import { nowMs, reached } from "../clock";
import {
  answerTimeoutMs, handlerStreams, headerTimeoutMs, idleTimeoutMs, handlerOn, maxBodyBytes, maxHeaderBytes, maxStreamedBodyBytes,
  maxUriBytes, requestTimeoutMs, WS_OFF, wsMode, wsPathMatches, wsVerifies,
} from "./config";
import { hasTimers, nextDeadline, popExpired, timerDeadline, TIMER_ANSWER, TIMER_HEADERS, TIMER_IDLE, timerClear, timerList, timerSet } from "./timers";
import {
  BODY_CHUNKED, bodyWaitsOnJs, HTTP_CLOSED_ANSWER_TIMEOUT, HTTP_CLOSED_BAD_BODY, HTTP_CLOSED_GONE, HTTP_CLOSED_REQUEST_TIMEOUT,
  streamAbandon, streamAnswered, streamBegin, streamBody, streamBodyEnd, streamBodyRead, streamDone, streamOpened, streaming, updateHold,
} from "./stream";
import {
  connBlockFree, connBlockNew, firstLine, input, phase, PH_BODY, PH_CHUNKED, PH_DONE, PH_HEAD, remaining,
  reqFlags, request, resetForHead, scanned, RF_HEAD, RF_HTTP10, RF_KEEP_ALIVE, RF_METHOD_OK, RF_TO_HANDLER, addConnFlags, connFlags, CF_DRAIN, CF_PEER_EOF,
  route, setBodyTotal, setInput, setPhase, setRemaining, setReqFlags, setRequest, setRoute, PH_WAIT_ANSWER, PH_LINGER, PH_WS, bodyTotal,
  addReqFlags, RF_ANSWERED, RF_ANSWER_BEGUN, RF_STREAMED, setStarted, started, PH_VERIFY,
} from "./conn";
import {
  REQ_HEAD, REQ_HTTP10, REQ_KEEP_ALIVE, requestBegin, requestBody,
} from "./request";
import { keepsAlive, P_ABORT, respondPiece } from "./respond";
import { checkUpgrade, sendSwitchingProtocols, switchingProtocols } from "../ws/handshake";
import { wsData, wsFree, wsGoingAway, wsOpen } from "../ws/handler";
import {
  contentLength, H_CHUNKED, H_CLOSE, H_CONNECTION_UPGRADE, H_CONTENT_LENGTH, H_EXPECT_CONTINUE, H_KEEP_ALIVE,
  H_UPGRADE_WEBSOCKET, headFlags, methodLen, methodPtr, minorVersion, parseHead, scanHead, targetLen, targetPtr,
  wsKeyLen, wsKeyPtr, wsProtocolLen, wsProtocolPtr, wsVersionLen, wsVersionPtr,
} from "./head";
import { findRoute, sendRoute } from "./routes";
import { ANSWERED, askHandler, DEFERRED, hasRequestHook } from "./inmodule";
import { moduleClosed, moduleOpened, moduleVerify, moduleVerifyAbandoned } from "../ws/inmodule";
import { PERSIST_CLOSE, PERSIST_DEFAULT, PERSIST_KEEP_ALIVE, sendContinue, sendStatus } from "./status";

// A request line this much longer than the URI limit is answered 414 before it ends.
const REQUEST_LINE_SLACK: u32 = 64;

export function httpOpen(slot: u32): void {
  const k = connBlockNew();
  setInBuf(slot, k);
  timerSet(slot, k, TIMER_HEADERS, nowMs() + headerTimeoutMs());
  streamOpened(slot);
}

export function httpClose(slot: u32): void {
  const k = inBuf(slot);
  if (k == 0) return;
  streamAbandon(slot, k, HTTP_CLOSED_GONE);
  timerClear(slot, k);
  if (phase(k) == PH_VERIFY) moduleVerifyAbandoned(slot);
  if (phase(k) == PH_WS) {
    moduleClosed(slot, request(k));
    wsFree(request(k));
    setRequest(k, 0);
  }
  connBlockFree(k);
  setInBuf(slot, 0);
}

/**
 * Which timeout guards the connection now. A head that has begun must end within the
 * header timeout, counted from its first byte, however slowly the rest trickles in (so
 * a slowloris client cannot hold the connection); a body must keep moving; between
 * requests the idle timeout runs.
 */
function rearm(slot: u32, k: usize): void {
  const ph = phase(k);
  if (ph == PH_LINGER || ph == PH_WS) return; // linger: one timer from the 413 on; WebSocket: none
  if (ph == PH_DONE) {
    timerClear(slot, k);
  } else if (ph == PH_WAIT_ANSWER || ph == PH_VERIFY || ((ph == PH_BODY || ph == PH_CHUNKED) && bodyWaitsOnJs(slot))) {
    // The handler has the request or the upgrade (or holds the body unread): its silence is timed.
    if (timerList(k) != TIMER_ANSWER) armAnswerTimer(slot, k);
  } else if (ph != PH_HEAD) {
    timerSet(slot, k, TIMER_HEADERS, nowMs() + headerTimeoutMs());
  } else if (input(k) == 0) {
    timerSet(slot, k, TIMER_IDLE, nowMs() + idleTimeoutMs());
  } else if (timerList(k) != TIMER_HEADERS) {
    timerSet(slot, k, TIMER_HEADERS, nowMs() + headerTimeoutMs());
  }
}

/** Answered for good: later input is ignored, and the connection closes once its output is out. */
function answeredForGood(slot: u32, k: usize): void {
  if (phase(k) == PH_VERIFY) moduleVerifyAbandoned(slot);
  setPhase(k, PH_DONE);
  closeWhenFlushed(slot);
}

/** Whether the connection closes after the answer just ended: it said so, or the server is shutting down. */
function answerCloses(k: usize): bool {
  return !keepsAlive(k) || (connFlags(k) & CF_DRAIN) != 0;
}

/** (Re-)arms the answer timeout, if there is one. */
function armAnswerTimer(slot: u32, k: usize): void {
  if (answerTimeoutMs() != 0) timerSet(slot, k, TIMER_ANSWER, nowMs() + answerTimeoutMs());
  else timerClear(slot, k);
}

/** Closes connections whose timeout has come, as many as this batch has room for. */
export function httpTick(): void {
  const now = nowMs();
  while (dirtyRoom() > 0) {
    let slot = popExpired(TIMER_HEADERS, now);
    if (slot >= 0) {
      const k = inBuf(<u32>slot);
      // A connection that never sent a byte is closed quietly; a request cut short hears why.
      if (phase(k) != PH_HEAD || input(k) != 0) requestTimedOut(<u32>slot, k);
      answeredForGood(<u32>slot, k);
      continue;
    }
    slot = popExpired(TIMER_ANSWER, now);
    if (slot >= 0) {
      // The handler was silent too long: 503 if it never began its answer, else the answer is cut.
      const k = inBuf(<u32>slot);
      if ((reqFlags(k) & RF_ANSWER_BEGUN) == 0) sendStatus(<u32>slot, 503, PERSIST_CLOSE);
      streamAbandon(<u32>slot, k, HTTP_CLOSED_ANSWER_TIMEOUT);
      answeredForGood(<u32>slot, k);
      continue;
    }
    slot = popExpired(TIMER_IDLE, now);
    if (slot < 0) return;
    answeredForGood(<u32>slot, inBuf(<u32>slot));
  }
}

/** 408 for a request that did not arrive in time (unless its handler already began answering). */
function requestTimedOut(slot: u32, k: usize): void {
  if ((reqFlags(k) & RF_ANSWER_BEGUN) == 0) sendStatus(slot, 408, PERSIST_CLOSE);
  streamAbandon(slot, k, HTTP_CLOSED_REQUEST_TIMEOUT);
}

// For the DEADLINE header word: whether a timeout is armed, and the earliest.
export { hasTimers as httpHasTimers, nextDeadline as httpDeadline };

export function httpData(slot: u32, ptr: usize, len: u32): void {
  const k = inBuf(slot);
  if (phase(k) == PH_WS) return wsData(slot, request(k), ptr, len);
  if (phase(k) == PH_DONE || phase(k) == PH_LINGER) return; // input after the answer is dropped
  const buf = input(k);
  if (buf == 0) {
    const used = run(slot, k, ptr, len);
    if (used < len) setInput(k, bufAppend(0, ptr + used, len - used));
  } else {
    setInput(k, bufAppend(buf, ptr, len));
    runBuffered(slot, k);
  }
  const ph = phase(k);
  if ((ph == PH_BODY || ph == PH_CHUNKED) && requestTimeoutMs() != 0 && reached(started(k) + requestTimeoutMs(), nowMs())) {
    // A body trickling in past the request timeout (a stalled one meets the header timeout).
    requestTimedOut(slot, k);
    answeredForGood(slot, k);
  }
  updateHold(slot, k);
  rearm(slot, k);
}

/** Runs the parser over the connection's buffered input. */
function runBuffered(slot: u32, k: usize): void {
  const buf = input(k);
  if (buf == 0) return;
  bufConsume(buf, run(slot, k, bufData(buf), bufLength(buf)));
  if (bufLength(buf) == 0) {
    bufFree(buf);
    setInput(k, 0);
  }
}

/** JS read n bytes of a streamed body (EV_BODY_READ). */
export function httpBodyRead(slot: u32, n: u32): void {
  const k = inBuf(slot);
  if (k == 0 || !streaming(k)) return;
  streamBodyRead(k, n);
  updateHold(slot, k);
  rearm(slot, k);
}

/** A piece of the JS handler's answer (EV_RESPONSE). */
export function httpResponse(slot: u32, ptr: usize, len: u32): void {
  const k = inBuf(slot);
  if (len >= 4 && (load<u32>(ptr) & P_ABORT) != 0) {
    // The handler destroyed its response (or failed after its head went out): the
    // client must not take a cut answer for a whole one, so the connection ends now.
    streamDone(k);
    return closeNow(slot);
  }
  if (phase(k) == PH_VERIFY) refuseUpgrade(slot, k);
  const ph = phase(k);
  const f = reqFlags(k);
  // A streamed request may be answered while its body still arrives (node:http's way).
  const early = (f & (RF_STREAMED | RF_ANSWERED)) == RF_STREAMED && (ph == PH_BODY || ph == PH_CHUNKED);
  if (ph != PH_WAIT_ANSWER && !early) return; // late: the connection timed out or failed meanwhile
  addReqFlags(k, RF_ANSWER_BEGUN);
  const last = respondPiece(slot, k, ptr, len);
  if ((f & RF_STREAMED) != 0) streamAnswered(slot, len);
  if (!last) {
    if (ph == PH_WAIT_ANSWER) armAnswerTimer(slot, k); // the handler is alive
    return;
  }
  if (early) {
    // Answered before the body ended: the rest of the body is read and dropped, then the
    // next request is read (or the connection closes, if the answer said so).
    addReqFlags(k, RF_ANSWERED);
    if (answerCloses(k)) {
      answeredForGood(slot, k);
    }
    updateHold(slot, k);
    rearm(slot, k);
    return;
  }
  streamDone(k);
  if (answerCloses(k)) {
    answeredForGood(slot, k);
  } else {
    resetForHead(k);
    runBuffered(slot, k); // requests pipelined behind this one
    // A client that has finished sending is answered every whole request it sent, then closed.
    if ((connFlags(k) & CF_PEER_EOF) != 0 && phase(k) != PH_WAIT_ANSWER && phase(k) != PH_DONE) {
      answeredForGood(slot, k);
    }
  }
  updateHold(slot, k);
  rearm(slot, k);
}

/** Handles what it can of [p, p + len); returns how many bytes it is done with. */
function run(slot: u32, k: usize, p: usize, len: u32): u32 {
  let pos: u32 = 0;
  while (pos < len) {
    const ph = phase(k);
    if (ph == PH_HEAD) {
      if (scanned(k) == 0) pos = skipEmptyLines(p, pos, len); // RFC 9112 §2.2
      if (pos == len) break;
      const headLen = scanHead(k, p + pos, len - pos);
      if (headLen == 0) {
        const status = unfinishedHeadStatus(k, len - pos);
        if (status != 0) return fail(slot, k, status, len);
        break;
      }
      let status = headLen > maxHeaderBytes() ? unfinishedHeadStatus(k, headLen) : 0;
      if (status == 0) status = parseHead(p + pos, headLen, maxUriBytes());
      resetForHead(k);
      if (status != 0) return fail(slot, k, status, len);
      pos += headLen;
      const s = startRequest(slot, k);
      if (s != 0) return fail(slot, k, s, len);
    } else if (ph == PH_BODY) {
      const take = min(remaining(k), len - pos);
      forwardBody(slot, k, p + pos, take);
      setRemaining(k, remaining(k) - take);
      pos += take;
      if (remaining(k) == 0) finishRequest(slot, k, true);
    } else if (ph == PH_CHUNKED) {
      const limit = (reqFlags(k) & RF_STREAMED) != 0 ? maxStreamedBodyBytes() : maxBodyBytes();
      const s = chunkedFeed(k, p + pos, len - pos, limit, maxHeaderBytes());
      if (s != 0) return fail(slot, k, s, len);
      pos += consumed();
      if (chunkedStatus() == CHUNKED_DATA) forwardBody(slot, k, dataPtr(), dataLen());
      if (chunkedStatus() == CHUNKED_DONE) finishRequest(slot, k, true);
      else if (chunkedStatus() != CHUNKED_DATA) break;
    } else if (ph == PH_WAIT_ANSWER || ph == PH_VERIFY) {
      break; // the rest waits for the JS handler's answer, or its verdict on the upgrade
    } else if (ph == PH_WS) {
      wsData(slot, request(k), p + pos, len - pos); // frames sent right behind the upgrade
      return len;
    } else {
      return len; // PH_DONE: the rest is ignored
    }
  }
  return pos;
}

/** Body bytes for the request's handler: streamed to JS, or collected for the whole request. */
function forwardBody(slot: u32, k: usize, p: usize, len: u32): void {
  const f = reqFlags(k);
  if ((f & RF_STREAMED) != 0) streamBody(slot, k, p, len);
  else if ((f & RF_TO_HANDLER) != 0) requestBody(k, p, len);
}

function skipEmptyLines(p: usize, pos: u32, len: u32): u32 {
  while (pos < len && (load<u8>(p + pos) == CR || load<u8>(p + pos) == LF)) pos++;
  return pos;
}

/** A head that has not ended yet but already breaks a limit: 414 or 431; else 0. */
function unfinishedHeadStatus(k: usize, have: u32): u32 {
  const line = firstLine(k);
  if ((line == 0 ? have : line) > maxUriBytes() + REQUEST_LINE_SLACK) return 414;
  return have > maxHeaderBytes() ? 431 : 0;
}

/** The head is parsed: decide the answer and how the body is framed; returns a status to fail with, or 0. */
function startRequest(slot: u32, k: usize): u32 {
  const hf = headFlags();
  const http10 = minorVersion() == 0;
  const keepAlive = (hf & H_CLOSE) == 0 && (!http10 || (hf & H_KEEP_ALIVE) != 0);
  const m = methodPtr();
  const isGet = methodLen() == 3 && load<u8>(m) == 0x47 && load<u8>(m, 1) == 0x45 && load<u8>(m, 2) == 0x54;
  const isHead = methodLen() == 4 && load<u32>(m) == 0x44414548; // "HEAD"
  if ((hf & (H_UPGRADE_WEBSOCKET | H_CONNECTION_UPGRADE)) == (H_UPGRADE_WEBSOCKET | H_CONNECTION_UPGRADE)
    && wsMode() != WS_OFF && wsPathMatches(targetPtr(), targetLen())) {
    return upgrade(slot, k, isGet, http10);
  }
  const r = findRoute(targetPtr(), targetLen());
  const toHandler = r == 0 && handlerOn() && hasRequestHook();
  const streamed = toHandler && handlerStreams();
  setReqFlags(k, (keepAlive ? RF_KEEP_ALIVE : 0) | (isHead ? RF_HEAD : 0) | (http10 ? RF_HTTP10 : 0)
    | (isGet || isHead ? RF_METHOD_OK : 0) | (toHandler ? RF_TO_HANDLER : 0));
  setRoute(k, r);
  const describe = (keepAlive ? REQ_KEEP_ALIVE : 0) | (isHead ? REQ_HEAD : 0) | (http10 ? REQ_HTTP10 : 0);
  if (toHandler && !streamed) requestBegin(k, describe);
  // The request began with its first byte, when the header timeout was armed.
  setStarted(k, timerList(k) == TIMER_HEADERS ? timerDeadline(k) - headerTimeoutMs() : nowMs());
  setBodyTotal(k, 0);
  let bodyExpected = false;
  let streamedLength: u32 = 0;
  if ((hf & H_CHUNKED) != 0) {
    chunkedStart(k);
    setPhase(k, PH_CHUNKED);
    bodyExpected = true;
    streamedLength = BODY_CHUNKED;
  } else if ((hf & H_CONTENT_LENGTH) != 0 && contentLength() != 0) {
    // Streamed, a body is bounded only by its own cap; collected whole, by maxBodySize.
    const limit = streamed ? <u64>maxStreamedBodyBytes() : <u64>maxBodyBytes();
    if (contentLength() > limit || (streamed && contentLength() >= <u64>BODY_CHUNKED)) return 413;
    setRemaining(k, <u32>contentLength());
    setBodyTotal(k, <u32>contentLength());
    setPhase(k, PH_BODY);
    bodyExpected = true;
    streamedLength = <u32>contentLength();
  }
  if (streamed) {
    streamBegin(slot, k, describe, streamedLength);
    addReqFlags(k, RF_STREAMED);
  }
  if (!bodyExpected) {
    finishRequest(slot, k, false);
  } else if ((hf & H_EXPECT_CONTINUE) != 0 && !http10) {
    sendContinue(slot);
  }
  return 0;
}

/** A WebSocket upgrade: 101 and the connection speaks frames from now on (or the refusal's status). */
function upgrade(slot: u32, k: usize, isGet: bool, http10: bool): u32 {
  const status = checkUpgrade(isGet, http10, wsVersionPtr(), wsVersionLen(), wsKeyPtr(), wsKeyLen());
  if (status != 0) return status;
  if (wsVerifies()) {
    // The host decides (verifyClient): the 101 waits in the request word, input waits behind it.
    bufFree(request(k));
    setRequest(k, switchingProtocols(wsKeyPtr(), wsKeyLen(), wsProtocolPtr(), wsProtocolLen()));
    setReqFlags(k, 0); // a refusal is answered, then the connection closes
    setPhase(k, PH_VERIFY);
    moduleVerify(slot); // the head just parsed is still there for the hook
    return 0;
  }
  sendSwitchingProtocols(slot, wsKeyPtr(), wsKeyLen(), wsProtocolPtr(), wsProtocolLen());
  becomeWebSocket(slot, k);
  return 0;
}

/** The 101 has gone: the connection speaks frames from now on. */
function becomeWebSocket(slot: u32, k: usize): void {
  setPhase(k, PH_WS);
  setRequest(k, wsOpen());
  moduleOpened(slot); // without a verdict, the head just parsed is still there for the hook (upgradeRequest)
  timerClear(slot, k); // an open WebSocket may be quiet for as long as it likes
}

/** The host accepted the upgrade waiting for its verdict (EV_WS_ACCEPT): the 101, then frames sent behind the request. */
export function httpAcceptUpgrade(slot: u32): void {
  const k = inBuf(slot);
  if (k == 0 || phase(k) != PH_VERIFY) return; // late: the connection timed out or closed meanwhile
  const response = request(k);
  send(slot, bufData(response), bufLength(response));
  bufFree(response);
  setRequest(k, 0);
  becomeWebSocket(slot, k);
  runBuffered(slot, k);
  updateHold(slot, k);
}

/** The host refuses the upgrade waiting for its verdict: its answer (EV_RESPONSE) is an ordinary one, then the connection closes. */
function refuseUpgrade(slot: u32, k: usize): void {
  moduleVerifyAbandoned(slot);
  bufFree(request(k));
  setRequest(k, 0);
  setPhase(k, PH_WAIT_ANSWER);
}

/** The whole request has been read: answer it, then read the next or close. */
function finishRequest(slot: u32, k: usize, hadBody: bool): void {
  const f = reqFlags(k);
  if ((f & RF_STREAMED) != 0) return finishStreamed(slot, k, hadBody);
  let keepAlive = (f & RF_KEEP_ALIVE) != 0;
  const persist = !keepAlive ? PERSIST_CLOSE : (f & RF_HTTP10) != 0 ? PERSIST_KEEP_ALIVE : PERSIST_DEFAULT;
  const head = (f & RF_HEAD) != 0;
  const r = route(k);
  if ((f & RF_TO_HANDLER) != 0) {
    // The handler answers at once, or defers (JS: the answer comes as EV_RESPONSE
    // pieces, and later input waits for it); one that did neither is a 500.
    const outcome = askHandler(slot, k, bodyTotal(k));
    if (outcome == DEFERRED) {
      setPhase(k, PH_WAIT_ANSWER);
      return;
    }
    if (outcome == ANSWERED) keepAlive = keepsAlive(k);
    else sendStatus(slot, 500, persist, "", head);
  } else if (r != 0 && (f & RF_METHOD_OK) != 0) {
    sendRoute(slot, r, head, persist);
  } else {
    sendStatus(slot, r != 0 ? 405 : 404, persist, r != 0 ? "Allow: GET, HEAD\r\n" : "", head);
  }
  if (keepAlive) {
    resetForHead(k);
  } else {
    answeredForGood(slot, k);
  }
}

/** A streamed request's body is complete: JS hears so; the answer may already have ended. */
function finishStreamed(slot: u32, k: usize, hadBody: bool): void {
  if (hadBody) streamBodyEnd(slot);
  if ((reqFlags(k) & RF_ANSWERED) == 0) {
    setPhase(k, PH_WAIT_ANSWER);
    armAnswerTimer(slot, k);
    return;
  }
  streamDone(k);
  if (!answerCloses(k)) {
    resetForHead(k);
  } else {
    answeredForGood(slot, k);
  }
}

/**
 * Answers with an error status and closes; the rest of the input is ignored. A 413
 * is answered while the client may still be sending its body: closing with unread
 * input makes the kernel reset the connection, and the client could lose the answer.
 * So the body is read and dropped until the client closes or the idle timeout ends it
 * (nginx's lingering close).
 */
function fail(slot: u32, k: usize, status: u32, len: u32): u32 {
  // A streamed request's handler may have begun its answer: then the connection just ends.
  if ((reqFlags(k) & RF_ANSWER_BEGUN) == 0 || !streaming(k)) {
    sendStatus(slot, status, PERSIST_CLOSE, status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "");
  }
  streamAbandon(slot, k, HTTP_CLOSED_BAD_BODY);
  if (status == 413) {
    setPhase(k, PH_LINGER);
    timerSet(slot, k, TIMER_IDLE, nowMs() + idleTimeoutMs());
  } else {
    answeredForGood(slot, k);
  }
  return len;
}

/** Shutdown: a request the JS handler has is still answered, then the connection closes. */
export function httpDrain(slot: u32): void {
  closeAfterAnswers(slot, CF_DRAIN);
}

/**
 * The peer has finished sending: every whole request it sent is answered (those behind
 * one the JS handler has, too: pipelined, then half-closed, as `nc -q` does), then the
 * connection closes.
 */
export function httpEof(slot: u32): void {
  closeAfterAnswers(slot, CF_PEER_EOF);
}

function closeAfterAnswers(slot: u32, why: u8): void {
  const k = inBuf(slot);
  if (phase(k) == PH_WAIT_ANSWER || (why == CF_DRAIN && streaming(k))) addConnFlags(k, why);
  else if (phase(k) == PH_WS) wsGoingAway(slot, request(k));
  else closeWhenFlushed(slot);
}
