// What the module hands JavaScript after a dispatch (its outbox): HTTP requests, their
// bodies and flow reports for the request listeners (or whole requests for the worker
// pool), WebSocket opens, messages and closes for the WebSocket registry, host calls for
// the application's functions. The server and the test kit's simulator deliver it the
// same way.
import { forEachOutboxEntry, OUT } from "../host/door.js";
import { globalConn } from "../host/threads.js";
import type { HostCalls } from "./calls.js";
import type { HttpExchanges, RequestHandoff } from "./http.js";
import type { ConnectionPeers } from "./peers.js";
import type { WebSocketRegistry } from "./websocket.js";

export interface OutboxTargets {
  /** Each connection's peer, reported at its accept. */
  peers: ConnectionPeers;
  /** The request listeners' exchanges (streamed requests). */
  http?: HttpExchanges;
  /** The worker pool: whole requests. */
  pool?: (handoff: RequestHandoff) => void;
  websockets: WebSocketRegistry;
  calls?: HostCalls;
}

/** Each entry of one outbox, in order, to whoever it is for; with threads, conn ids become global (host/threads.ts). */
export function deliverOutbox(outbox: Buffer, to: OutboxTargets, thread = 0): void {
  forEachOutboxEntry(outbox, (kind, local, payload) => {
    const conn = globalConn(thread, local);
    if (to.peers.entry(kind, conn, payload)) return;
    if (kind === OUT.HOST_CALL) to.calls?.call(conn, payload);
    else if (to.pool && kind === OUT.HTTP_REQUEST) to.pool({ conn, descriptor: payload });
    else if (!to.http?.entry(kind, conn, payload)) to.websockets.entry(kind, conn, payload);
  });
}
