// WebSocket connections, after the HTTP upgrade (http/handler.ts): frames in, whole
// messages to JS (the ws module) or to the hooks of a handler in the module (the SDK's
// WebSocket level: ws-echo, your own).

import { WS_JS, wsMaxPayload, wsMode } from "../http/config";
import { moduleMessage } from "./inmodule";
import { jsMessage } from "./js";
import { closeWith, CLOSE_GOING_AWAY, wsFeed } from "./frames";
import { wsBlockFree, wsBlockNew } from "./state";

export function wsOpen(): usize {
  return wsBlockNew();
}

export function wsFree(w: usize): void {
  wsBlockFree(w);
}

export function wsData(slot: u32, w: usize, p: usize, len: u32): void {
  const code = wsFeed(slot, w, p, len, wsMaxPayload(), wsMode() == WS_JS ? jsMessage : moduleMessage);
  if (code != 0) closeWith(slot, w, code);
}

/** Shutdown: tell the client we are going away (1001), then close. */
export function wsGoingAway(slot: u32, w: usize): void {
  closeWith(slot, w, CLOSE_GOING_AWAY);
}
