// WebSocket connections, after the HTTP upgrade (http/handler.ts): frames in, and for
// ws-echo every message back as one frame, from where it lies when it can.

import { send } from "../output";
import { WS_JS, WS_MODULE, wsMaxPayload, wsMode } from "../http/config";
import { moduleMessage } from "./inmodule";
import { jsMessage } from "./js";
import { closeWith, CLOSE_GOING_AWAY, headerSize, OP_PING, sendFrame, wsFeed, writeFrameHeader } from "./frames";
import { wsBlockFree, wsBlockNew } from "./state";

export function wsOpen(): usize {
  return wsBlockNew();
}

export function wsFree(w: usize): void {
  wsBlockFree(w);
}

export function wsData(slot: u32, w: usize, p: usize, len: u32): void {
  const mode = wsMode();
  const code = wsFeed(slot, w, p, len, wsMaxPayload(), mode == WS_JS ? jsMessage : mode == WS_MODULE ? moduleMessage : echoMessage);
  if (code != 0) closeWith(slot, w, code);
}

/** Shutdown: tell the client we are going away (1001), then close. */
export function wsGoingAway(slot: u32, w: usize): void {
  closeWith(slot, w, CLOSE_GOING_AWAY);
}

/** ws-echo: the message goes back as one frame of the same type. */
function echoMessage(slot: u32, opcode: u8, p: usize, len: u32, headroom: u32): void {
  if (opcode == OP_PING) return; // answered with its pong already
  const hs = headerSize(len);
  if (headroom >= hs) {
    writeFrameHeader(p - hs, opcode, len); // over the client's spent header: one direct send
    send(slot, p - hs, hs + len);
  } else {
    sendFrame(slot, opcode, p, len);
  }
}
