// The ws module: HTTP plus WebSocket upgrades whose messages go to JavaScript, as a
// handler on the SDK's WebSocket level (the JS bridge of ws/js.ts) with the core hooks
// it needs beside: what JS sends and broadcasts, and how much is still unsent. Plain
// requests no route answers go to JS too, as in the http module.
export * from "../door";
export * from "../http/exports";
import { onHostEvent, onSendCompleted, onServerEvent, onTick, onWantsMore } from "../handler";
import { httpTick } from "../http/handler";
import { setRequestHook } from "../http/inmodule";
import { requestToJs } from "../http/js";
import { onClose, onMessage, onOpen, onPing, onPong } from "../sdk/websocket";
import { broadcasting, broadcastPiece, broadcastSome } from "./broadcast";
import { jsClosed, jsHostEvent, jsMessage, jsOpened, jsPing, jsPong, jsSendCompleted, jsVerify, jsVerifyAbandoned } from "./js";
import { setVerifyHooks } from "./inmodule";
import { reportPeers } from "../http/stream";

onOpen(jsOpened);
onMessage(jsMessage);
onPing(jsPing);
onPong(jsPong);
onClose(jsClosed);
setVerifyHooks(changetype<u32>(jsVerify), changetype<u32>(jsVerifyAbandoned));
reportPeers(); // for the upgrade request's socket
setRequestHook(requestToJs);

// After the SDK's calls, which register the HTTP hooks these extend.
onHostEvent(jsHostEvent);
onSendCompleted(jsSendCompleted);
// server.broadcast(): framed once, sent to every WebSocket a batch at a time.
onServerEvent((op: u32, ptr: usize, len: u32): void => {
  broadcastPiece(ptr, len); // EV_WS_BROADCAST, the only one
});
onTick((): void => {
  broadcastSome();
  httpTick();
});
onWantsMore(broadcasting);
