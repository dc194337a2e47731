// The ws-echo module, on the SDK's WebSocket level: HTTP plus WebSocket upgrades whose
// every message goes back as it came. A message sent back whole leaves from where the
// kernel put it, its frame header written over the client's (ws/inmodule.ts): no copy.
// Plain requests no route answers go to JS when the host has a 'request' listener.
export * from "../door";
export * from "../http/exports";
import { setRequestHook } from "../http/inmodule";
import { requestToJs } from "../http/js";
import { onMessage, send } from "../sdk/websocket";

onMessage((conn: u32, data: usize, length: u32, binary: bool): void => {
  send(conn, data, length, binary);
});
setRequestHook(requestToJs);
