// The static route table: responses given at start-up (path → status, headers, body)
// and answered entirely in the module. Each route's status line, fields and
// Content-Length are formatted once, when it is added; a response then costs the
// Date line and three copies.
//
// addRoute's input, written by the host into memory from reserve():
//   status u32 · path length u32 · fields length u32 · body length u32 · path · fields ("Name: value\r\n"…) · body

import { bump } from "../alloc";
import { reserveReply, send } from "../output";
import { pathLength, writeDecimal, writeText } from "./bytes";
import { writeHeadEnd, writeStatusLine } from "./status";

const TABLE = memory.data(12); // entries ptr, count, capacity
const E_BYTES: u32 = 24; // path ptr, path len, prefix ptr, prefix len, body ptr, body len

function entry(i: u32): usize {
  return <usize>load<u32>(TABLE) + <usize>i * E_BYTES;
}

export function routeCount(): u32 {
  return load<u32>(TABLE, 4);
}

/** Adds a route; false if the description is malformed. */
export function addRoute(p: usize, len: u32): bool {
  if (len < 16) return false;
  const status = load<u32>(p);
  const pathLen = load<u32>(p, 4);
  const fieldsLen = load<u32>(p, 8);
  const bodyLen = load<u32>(p, 12);
  if (<u64>16 + pathLen + fieldsLen + bodyLen != len || status < 200 || status > 999 || pathLen == 0) return false;
  if (routeCount() == load<u32>(TABLE, 8)) growTable();
  const path = bump(pathLen);
  memory.copy(path, p + 16, pathLen);
  const prefix = bump(64 + fieldsLen);
  let n = writeStatusLine(prefix, status);
  memory.copy(prefix + n, p + 16 + pathLen, fieldsLen);
  n += fieldsLen;
  n += writeText(prefix + n, "Content-Length: ");
  n += writeDecimal(prefix + n, bodyLen);
  n += writeText(prefix + n, "\r\n");
  const body = bump(bodyLen);
  memory.copy(body, p + 16 + pathLen + fieldsLen, bodyLen);
  const e = entry(routeCount());
  store<u32>(e, <u32>path, 0);
  store<u32>(e, pathLen, 4);
  store<u32>(e, <u32>prefix, 8);
  store<u32>(e, n, 12);
  store<u32>(e, <u32>body, 16);
  store<u32>(e, bodyLen, 20);
  store<u32>(TABLE, routeCount() + 1, 4);
  return true;
}

function growTable(): void {
  const cap = max<u32>(8, load<u32>(TABLE, 8) * 2);
  const bigger = bump(<usize>cap * E_BYTES);
  memory.copy(bigger, load<u32>(TABLE), <usize>routeCount() * E_BYTES);
  store<u32>(TABLE, <u32>bigger);
  store<u32>(TABLE, cap, 8);
}

/** The route for a request target (its path: the query is ignored), as index + 1; 0 if none. */
export function findRoute(target: usize, targetLen: u32): u32 {
  const pathLen = pathLength(target, targetLen);
  for (let i: u32 = 0; i < routeCount(); i++) {
    const e = entry(i);
    if (load<u32>(e, 4) == pathLen && memory.compare(load<u32>(e), target, pathLen) == 0) return i + 1;
  }
  return 0;
}

const TAIL = memory.data(96);

export function sendRoute(slot: u32, routeId: u32, head: bool, persist: u32): void {
  const e = entry(routeId - 1);
  const prefix = <usize>load<u32>(e, 8);
  const prefixLen = load<u32>(e, 12);
  const tailLen = writeHeadEnd(TAIL, persist);
  const bodyLen = head ? 0 : load<u32>(e, 20);
  // Formatted whole into the reply arena, a response goes out without a copy into a
  // connection buffer (and without a send completion to wait for).
  const p = reserveReply(prefixLen + tailLen + bodyLen);
  if (p == 0) {
    send(slot, prefix, prefixLen);
    send(slot, TAIL, tailLen);
    send(slot, load<u32>(e, 16), bodyLen);
    return;
  }
  memory.copy(p, prefix, prefixLen);
  memory.copy(p + prefixLen, TAIL, tailLen);
  memory.copy(p + prefixLen + tailLen, load<u32>(e, 16), bodyLen);
  send(slot, p, prefixLen + tailLen + bodyLen);
}
