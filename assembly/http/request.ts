// Requests for the module's handler (http/inmodule.ts): when no static route answers,
// the request (head fields as received, and the whole body) is collected in a buffer
// owned by the connection, and handed to the handler once whole (the JS bridge copies
// it into the outbox: http/js.ts).
//
//   flags u32 (1 keep-alive, 2 HEAD, 4 HTTP/1.0) · method length u32 · target length u32
//   · fields length u32 · body length u32 · method · target · fields (raw lines, up to the empty one) · body

import { bufAppend } from "../buffer";
import { request, setRequest } from "./conn";
import { headersLen, headersPtr, methodLen, methodPtr, targetLen, targetPtr } from "./head";

const DESCRIPTOR_BYTES: u32 = 20;
// Descriptor flags.
export const REQ_KEEP_ALIVE: u32 = 1;
export const REQ_HEAD: u32 = 2;
export const REQ_HTTP10: u32 = 4;
const DESCRIPTOR = memory.data(20);

/** Starts the request's buffer from the head just parsed. */
export function requestBegin(k: usize, flags: u32): void {
  setRequest(k, describeRequest(flags));
}

/** A new buffer holding the head just parsed, in the format above (body length 0). */
export function describeRequest(flags: u32): usize {
  const d = DESCRIPTOR;
  store<u32>(d, flags, 0);
  store<u32>(d, methodLen(), 4);
  store<u32>(d, targetLen(), 8);
  store<u32>(d, headersLen(), 12);
  store<u32>(d, 0, 16);
  let buf = bufAppend(0, d, DESCRIPTOR_BYTES);
  buf = bufAppend(buf, methodPtr(), methodLen());
  buf = bufAppend(buf, targetPtr(), targetLen());
  return bufAppend(buf, headersPtr(), headersLen());
}

export function requestBody(k: usize, p: usize, len: u32): void {
  setRequest(k, bufAppend(request(k), p, len));
}
