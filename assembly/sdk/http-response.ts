// The answering side of the SDK's HTTP level: header fields the handler adds with
// setHeader, then one respond*() with the status, Content-Type and body. The module
// writes the status line, Date, Content-Length and Connection itself (http/respond.ts).

import { allocBlock, classOf, freeBlock } from "../alloc";
import { bufAppend, bufData, bufFree, bufLength } from "../buffer";
import { isTokenChar } from "../http/bytes";
import { httpResponse } from "../http/handler";
import { answeringNow, deferAnswer, respondInModule } from "../http/inmodule";
import { utf8Length, writeText, writeUtf8 } from "./format";

// The fields set for the response being prepared, "Name: value\r\n" each: a buffer (buffer.ts), or 0.
const FIELDS = memory.data(4);
// A response piece (http/respond.ts): flags (HEAD and END: the whole response), status, fields length, fields, body.
const P_HEAD_END: u32 = 3;
const PIECE_HEADER: u32 = 12;
// Fields the module writes itself, lower case: a handler's own would contradict them.
const RESERVED: StaticArray<string> = ["content-length", "transfer-encoding", "connection", "date", "content-type"];

/**
 * Adds a header field to the response the handler is about to send (call it before
 * respond*). False, and nothing added, for a name that is not a token (RFC 9110 §5.1),
 * a value holding CR, LF or NUL, or a field the module writes itself (Content-Length,
 * Transfer-Encoding, Connection, Date; Content-Type is respond()'s argument).
 */
export function setHeader(name: string, value: string): bool {
  const length = utf8Length(value);
  const bytes = allocBlock(max<u32>(length, 1));
  writeUtf8(bytes, value);
  const added = setHeaderBytes(name, bytes, length);
  freeBlock(bytes, classOf(max<u32>(length, 1)));
  return added;
}

/** setHeader() with the value's `length` bytes at `value` (formatted without allocating a string). */
export function setHeaderBytes(name: string, value: usize, length: u32): bool {
  if (!isToken(name) || isReserved(name)) return false;
  for (let i: u32 = 0; i < length; i++) {
    const c = load<u8>(value + i);
    if (c == 0x0d || c == 0x0a || c == 0) return false;
  }
  const fieldLength = <u32>name.length + 2 + length + 2;
  const field = allocBlock(fieldLength);
  const at = writeText(writeText(field, name), ": ");
  memory.copy(at, value, length);
  writeText(at + length, "\r\n");
  store<u32>(FIELDS, <u32>bufAppend(load<u32>(FIELDS), field, fieldLength));
  freeBlock(field, classOf(fieldLength));
  return true;
}

/** Forgets the fields set so far (a new request begins). */
export function discardHeaders(): void {
  bufFree(load<u32>(FIELDS));
  store<u32>(FIELDS, 0);
}

/** Answers with `status`, a Content-Type, the fields setHeader added, and a body (`length` bytes at `body`). */
export function respond(conn: u32, status: u32, contentType: string, body: usize, length: u32): void {
  const extra = load<u32>(FIELDS);
  const extraLength: u32 = extra == 0 ? 0 : bufLength(extra);
  const fieldsLength = 14 + utf8Length(contentType) + 2 + extraLength; // "Content-Type: " type "\r\n" …
  const size = PIECE_HEADER + fieldsLength + length;
  const piece = allocBlock(size);
  store<u32>(piece, P_HEAD_END, 0);
  store<u32>(piece, status, 4);
  store<u32>(piece, fieldsLength, 8);
  let at = writeText(writeUtf8(writeText(piece + PIECE_HEADER, "Content-Type: "), contentType), "\r\n");
  if (extra != 0) memory.copy(at, bufData(extra), extraLength);
  memory.copy(at + extraLength, body, length);
  // In the request hook: its answer. Later (answerLater): the answer the connection waits for.
  if (answeringNow()) respondInModule(conn, piece, size);
  else httpResponse(conn, piece, size);
  freeBlock(piece, classOf(size));
  discardHeaders();
}

/**
 * The handler answers this request later, with respond*(conn, …) from another hook (the
 * answer of a host call, a timer); meanwhile the connection waits, and requests pipelined
 * behind it wait their turn. Call it in the request handler, instead of answering.
 */
export function answerLater(): void {
  deferAnswer();
}

/** respond() with a string body, UTF-8. */
export function respondText(conn: u32, status: u32, contentType: string, text: string): void {
  const length = utf8Length(text);
  const body = allocBlock(length);
  writeUtf8(body, text);
  respond(conn, status, contentType, body, length);
  freeBlock(body, classOf(length));
}

function isToken(name: string): bool {
  if (name.length == 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = <u32>name.charCodeAt(i);
    if (c > 0x7f || !isTokenChar(c)) return false;
  }
  return true;
}

function isReserved(name: string): bool {
  for (let r = 0; r < RESERVED.length; r++) {
    const reserved = unchecked(RESERVED[r]);
    if (reserved.length != name.length) continue;
    let same = true;
    for (let i = 0; i < name.length && same; i++) {
      let c = name.charCodeAt(i);
      if (c >= 0x41 && c <= 0x5a) c += 0x20;
      same = c == reserved.charCodeAt(i);
    }
    if (same) return true;
  }
  return false;
}
