// What the module hands JavaScript after a dispatch (its outbox): requests for a request
// handler, WebSocket opens, messages and closes for the WebSocket registry, host calls for
// the application's functions. The server and the test kit's simulator deliver it the
// same way.
import { forEachOutboxEntry, OUT } from "../host/door.js";
import type { HostCalls } from "./calls.js";
import type { RequestHandoff } from "./http.js";
import type { WebSocketRegistry } from "./websocket.js";

/** Each entry of one outbox, in order: a request to `request`, a host call to `calls`, the rest to `websockets`. */
export function deliverOutbox(outbox: Buffer, request: (handoff: RequestHandoff) => void, websockets: WebSocketRegistry,
  calls: HostCalls | undefined): void {
  forEachOutboxEntry(outbox, (kind, conn, payload) => {
    if (kind === OUT.HTTP_REQUEST) request({ conn, descriptor: payload });
    else if (kind === OUT.HOST_CALL) calls?.call(conn, payload);
    else websockets.entry(kind, conn, payload);
  });
}
