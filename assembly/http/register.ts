// What an HTTP module (http, the SDK's HTTP and WebSocket levels, and so ws-echo and ws)
// registers with the core: one HTTP handler, whose WebSocket mode says whether upgrades
// are accepted (their frames then go to the hooks of ws/inmodule.ts).

import { EV_BODY_READ, EV_RESPONSE, EV_WS_PUBLISH } from "../abi";
import {
  onClose, onData, onDeadline, onDrain, onEof, onHostEvent, onOpen, onOption, onSendCompleted, onServerEvent, onTick, onWantsMore,
  useReplyArena,
} from "../handler";
import { setHttpOption, setWsMode, WS_OFF } from "./config";
import {
  httpBodyRead, httpClose, httpData, httpDeadline, httpDrain, httpEof, httpHasTimers, httpOpen, httpResponse, httpTick,
} from "./handler";
import { httpSendCompleted } from "./stream";
import { fanningOut, fanOutPiece, fanOutSome } from "../ws/fanout";

// The reply arena: 256 KiB a batch holds about 2,000 short responses.
const REPLY_HALF_BYTES: u32 = 256 << 10;

/** From the application: a piece of the JS handler's response (EV_RESPONSE), or how much of a streamed body it read (EV_BODY_READ). */
export function httpHostEvent(slot: u32, op: u32, ptr: usize, len: u32): void {
  if (op == EV_RESPONSE) httpResponse(slot, ptr, len);
  else if (op == EV_BODY_READ && len >= 4) httpBodyRead(slot, load<u32>(ptr));
}

function fanOutServerEvent(op: u32, ptr: usize, len: u32): void {
  fanOutPiece(op == EV_WS_PUBLISH, ptr, len);
}

function fanOutAndHttpTick(): void {
  fanOutSome();
  httpTick();
}

export function registerHttp(wsMode: u32): void {
  setWsMode(wsMode);
  onOpen(httpOpen);
  onData(httpData);
  onEof(httpEof);
  onClose(httpClose);
  onDrain(httpDrain);
  onHostEvent(httpHostEvent);
  if (wsMode == WS_OFF) {
    onTick(httpTick);
  } else {
    // server.broadcast() (EV_WS_BROADCAST) and server.publish() (EV_WS_PUBLISH) are framed
    // once, then go out a batch at a time, asking for batches until done (ws/fanout.ts).
    onServerEvent(fanOutServerEvent);
    onTick(fanOutAndHttpTick);
    onWantsMore(fanningOut);
  }
  onDeadline(httpHasTimers, httpDeadline);
  onOption(setHttpOption);
  onSendCompleted(httpSendCompleted);
  useReplyArena(REPLY_HALF_BYTES);
}
