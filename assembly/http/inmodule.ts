// The request hook: requests no static route answers go to the module's handler (the
// SDK's HTTP level, or the JS bridge http/js.ts), as the request buffer request.ts
// builds, within the dispatch. The handler answers at once (a whole response piece,
// written like a static route's), or defers: the answer then comes later as EV_RESPONSE
// pieces (from JS), and the connection waits for it.

import { bufData, bufFree, bufLength } from "../buffer";
import { inBuf } from "../handles";
import { request, setRequest } from "./conn";
import { respondPiece } from "./respond";

type RequestHook = (conn: u32, descriptor: usize, length: u32) => void;

// What the hook did with the request.
export const UNANSWERED: u32 = 0;
export const ANSWERED: u32 = 1;
export const DEFERRED: u32 = 2;

// [the hook (a function reference) or 0, what it did with the current request, whether it is running]
const STATE = memory.data(12);

export function setRequestHook(fn: RequestHook): void {
  store<u32>(STATE, changetype<u32>(fn), 0);
}

/** Whether the module has a handler for requests no route answers. */
export function hasRequestHook(): bool {
  return load<u32>(STATE, 0) != 0;
}

/** Runs the hook on the whole request in `k` (its buffer is freed); ANSWERED, DEFERRED or UNANSWERED. */
export function askHandler(slot: u32, k: usize, bodyLen: u32): u32 {
  const buf = request(k);
  store<u32>(bufData(buf), bodyLen, 16);
  store<u32>(STATE, UNANSWERED, 4);
  store<u32>(STATE, 1, 8);
  changetype<RequestHook>(load<u32>(STATE, 0))(slot, bufData(buf), bufLength(buf));
  store<u32>(STATE, 0, 8);
  bufFree(buf);
  setRequest(k, 0);
  return load<u32>(STATE, 4);
}

/** Whether the request hook is running (an answer now is its answer; later, a deferred one). */
export function answeringNow(): bool {
  return load<u32>(STATE, 8) != 0;
}

/** The hook's answer: one whole response piece (respond.ts's format, HEAD and END set). */
export function respondInModule(slot: u32, piece: usize, length: u32): void {
  if (load<u32>(STATE, 4) != UNANSWERED) return; // one answer per request
  store<u32>(STATE, ANSWERED, 4);
  respondPiece(slot, inBuf(slot), piece, length);
}

/** The hook's answer comes later, as EV_RESPONSE pieces (the JS handler's). */
export function deferAnswer(): void {
  if (load<u32>(STATE, 4) == UNANSWERED) store<u32>(STATE, DEFERRED, 4);
}
