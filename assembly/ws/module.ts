// The ws module: HTTP plus WebSocket upgrades whose messages go to JavaScript, as a
// handler on the SDK's WebSocket level (the JS bridge of ws/js.ts) with the core hooks
// it needs beside: what JS sends and broadcasts, and how much is still unsent. Plain
// requests no route answers go to JS too, as in the http module.
export * from "../door";
export * from "../http/exports";
import { onHostEvent, onSendCompleted } from "../handler";
import { setRequestHook } from "../http/inmodule";
import { requestToJs } from "../http/js";
import { onClose, onMessage, onOpen, onPing, onPong } from "../sdk/websocket";
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
