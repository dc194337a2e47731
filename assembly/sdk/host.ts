// Host calls, for a handler at any level of the SDK: ask the application (your
// JavaScript: createServer's `calls`) for something only it has, and get the answer as
// a hook for the same connection, in a later dispatch. The module stays sealed (no
// imports beyond the door's); calls and answers cross the door as records, so a
// recording holds them and a replay needs no application.
//
//   callHost(conn, "lookup", key, keyLength);
//   onAnswer((conn: u32, call: u32, status: u32, data: usize, length: u32): void => {
//     if (status == ANSWER_OK) send(conn, data, length);
//   });
//
// A call unanswered within the timeout (`callTimeout`, 30 s) is answered ANSWER_TIMED_OUT
// on the module's clock; a connection that closes with calls pending gets no answer.

import { CALL_FAILED, CALL_OK, CALL_TIMED_OUT, CALL_TOO_LARGE, CALL_UNKNOWN, hostCall } from "../calls";
import { onCallResult } from "../handler";
import { allocBlock, classOf, freeBlock } from "../alloc";
import { utf8Length, writeUtf8 } from "./format";

/** The answer's bytes are the application's result. */
export const ANSWER_OK = CALL_OK;
/** The application's function threw: the bytes are its message. */
export const ANSWER_FAILED = CALL_FAILED;
/** The application has no function by that name. */
export const ANSWER_UNKNOWN = CALL_UNKNOWN;
/** No answer came within the timeout. */
export const ANSWER_TIMED_OUT = CALL_TIMED_OUT;
/** The application's answer was larger than a host call may carry (64 KiB). */
export const ANSWER_TOO_LARGE = CALL_TOO_LARGE;

/**
 * Asks the application for `name` with `length` bytes at `data` (copied now); returns the
 * call's id, which its answer carries. Calls of one connection may be answered in any order.
 */
export function callHost(conn: u32, name: string, data: usize, length: u32): u32 {
  const nameLength = utf8Length(name);
  const bytes = allocBlock(max<u32>(nameLength, 1));
  writeUtf8(bytes, name);
  const id = hostCall(conn, bytes, nameLength, data, length);
  freeBlock(bytes, classOf(max<u32>(nameLength, 1)));
  return id;
}

/** An answer to one of the connection's calls: its id, an ANSWER_* status, and bytes (valid during the hook). */
export function onAnswer(fn: (conn: u32, call: u32, status: u32, data: usize, length: u32) => void): void {
  onCallResult(fn);
}
