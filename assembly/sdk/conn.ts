// What the SDK keeps for a connection, in the handle's input word. The core frees that
// block when the connection closes; the stream level's close hook frees what it points
// to first. Nothing is kept for a connection that needs nothing (the word stays 0).
//
//   block (a buffer of buffer.ts):  pending u32 | the handler's state bytes …
//   pending: a buffer with the unconsumed input of earlier reads (framed, onRead), or 0

import { bufData, bufFree, bufLength, bufZeroed } from "../buffer";
import { inBuf, setInBuf } from "../handles";

const PENDING: usize = 0;
const STATE: u32 = 4;

function block(conn: u32, stateBytes: u32): usize {
  const have = inBuf(conn);
  if (have != 0 && bufLength(have) >= STATE + stateBytes) return have;
  const bigger = bufZeroed(STATE + stateBytes);
  if (have != 0) {
    memory.copy(bufData(bigger), bufData(have), bufLength(have));
    bufFree(have);
  }
  setInBuf(conn, bigger);
  return bigger;
}

/** The connection's unconsumed input of earlier reads (a buffer), or 0. */
export function pendingInput(conn: u32): usize {
  const b = inBuf(conn);
  return b == 0 ? 0 : <usize>load<u32>(bufData(b), PENDING);
}

export function setPendingInput(conn: u32, buf: usize): void {
  if (buf == 0 && inBuf(conn) == 0) return;
  store<u32>(bufData(block(conn, 0)), <u32>buf, PENDING);
}

/** The handler's `bytes` bytes for the connection, zeroed when first asked for. */
export function stateOf(conn: u32, bytes: u32): usize {
  return bufData(block(conn, bytes)) + STATE;
}

/** The connection is closing: its pending input goes (the core frees the block itself). */
export function releaseConnData(conn: u32): void {
  bufFree(pendingInput(conn));
}
