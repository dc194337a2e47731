// The JS bridge of the http and ws modules, as a request hook (http/inmodule.ts): a
// request no static route answers goes to the outbox, whole, for the JS 'request'
// listeners; their answer comes back as EV_RESPONSE pieces (http/respond.ts).

import { connId } from "../handles";
import { OUT_HTTP_REQUEST, outboxPut } from "../outbox";
import { deferAnswer } from "./inmodule";

/** Hands the request (request.ts's format) to JS; the answer comes later. */
export function requestToJs(conn: u32, descriptor: usize, length: u32): void {
  outboxPut(OUT_HTTP_REQUEST, connId(conn), descriptor, length);
  deferAnswer();
}
