// WebSocket connections, after the HTTP upgrade (http/handler.ts): frames in, whole
// messages and pings to the WebSocket hooks (ws/inmodule.ts) of the module's handler
// (the SDK's WebSocket level: ws-echo, the JS bridge ws/js.ts, yours).

import { wsMaxPayload } from "../http/config";
import { moduleMessage } from "./inmodule";
import { leaveAllTopics } from "./topics";
import { holdIfCongested } from "./fanout";
import { closeWith, CLOSE_GOING_AWAY, wsFeed } from "./frames";
import { CLOSE_PEER_ERROR, W_CLOSE, wsBlockFree, wsBlockNew } from "./state";

export function wsOpen(): usize {
  return wsBlockNew();
}

export function wsFree(w: usize): void {
  leaveAllTopics(w);
  wsBlockFree(w);
}

export function wsData(slot: u32, w: usize, p: usize, len: u32): void {
  const code = wsFeed(slot, w, p, len, wsMaxPayload(), moduleMessage);
  holdIfCongested(slot); // what it sent may have been published to many: it waits while they catch up
  if (code == 0) return;
  store<u8>(w, load<u8>(w, W_CLOSE) | CLOSE_PEER_ERROR, W_CLOSE);
  closeWith(slot, w, code);
}

/** Shutdown: tell the client we are going away (1001), then close. */
export function wsGoingAway(slot: u32, w: usize): void {
  closeWith(slot, w, CLOSE_GOING_AWAY);
}
