// What the HTTP modules (http, ws, ws-echo) register with the core: one HTTP handler,
// whose WebSocket mode says what upgraded connections' messages do. Their entry files
// differ only in that mode.

import { EV_RESPONSE } from "../abi";
import {
  onClose, onData, onDeadline, onDrain, onEof, onHostEvent, onOpen, onOption, onSendCompleted, onServerEvent, onTick,
  onWantsMore, useReplyArena,
} from "../handler";
import { broadcasting, broadcastPiece, broadcastSome } from "../ws/broadcast";
import { setHttpOption, setWsMode } from "./config";
import {
  httpClose, httpData, httpDeadline, httpDrain, httpEof, httpHasTimers, httpOpen, httpResponse, httpSendCompleted, httpTick,
  httpWsEvent,
} from "./handler";

// The reply arena: 256 KiB a batch holds about 2,000 short responses.
const REPLY_HALF_BYTES: u32 = 256 << 10;

/** An answer from the application: a response piece (EV_RESPONSE) or a WebSocket message or close. */
function hostEvent(slot: u32, op: u32, ptr: usize, len: u32): void {
  if (op == EV_RESPONSE) httpResponse(slot, ptr, len);
  else httpWsEvent(slot, op, ptr, len);
}

function serverEvent(op: u32, ptr: usize, len: u32): void {
  broadcastPiece(ptr, len); // EV_WS_BROADCAST, the only one
}

function tick(): void {
  broadcastSome();
  httpTick();
}

export function registerHttp(wsMode: u32): void {
  setWsMode(wsMode);
  onOpen(httpOpen);
  onData(httpData);
  onEof(httpEof);
  onClose(httpClose);
  onDrain(httpDrain);
  onHostEvent(hostEvent);
  onServerEvent(serverEvent);
  onSendCompleted(httpSendCompleted);
  onTick(tick);
  onDeadline(httpHasTimers, httpDeadline);
  onWantsMore(broadcasting);
  onOption(setHttpOption);
  useReplyArena(REPLY_HALF_BYTES);
}
