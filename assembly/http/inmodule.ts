// Requests answered by a handler inside the module (the SDK's HTTP level) instead of by
// JavaScript: the same request buffer the host would get (request.ts's format), handed
// to a hook within the dispatch, whose answer is written at once, like a static route's.

import { bufData, bufFree, bufLength } from "../buffer";
import { inBuf } from "../handles";
import { request, setRequest } from "./conn";
import { respondPiece } from "./respond";

type RequestHook = (conn: u32, descriptor: usize, length: u32) => void;

// [the hook (a function reference) or 0, whether the current request was answered]
const STATE = memory.data(8);

export function setRequestHook(fn: RequestHook): void {
  store<u32>(STATE, changetype<u32>(fn), 0);
}

/** Whether a handler in the module answers requests no route answers. */
export function hasRequestHook(): bool {
  return load<u32>(STATE, 0) != 0;
}

/** Runs the hook on the whole request in `k`; whether it answered. The request buffer is freed. */
export function answerInModule(slot: u32, k: usize, bodyLen: u32): bool {
  const buf = request(k);
  store<u32>(bufData(buf), bodyLen, 16);
  store<u32>(STATE, 0, 4);
  changetype<RequestHook>(load<u32>(STATE, 0))(slot, bufData(buf), bufLength(buf));
  bufFree(buf);
  setRequest(k, 0);
  return load<u32>(STATE, 4) != 0;
}

/** The hook's answer: one whole response piece (respond.ts's format, HEAD and END set). */
export function respondInModule(slot: u32, piece: usize, length: u32): void {
  if (load<u32>(STATE, 4) != 0) return; // one answer per request
  store<u32>(STATE, 1, 4);
  respondPiece(slot, inBuf(slot), piece, length);
}
