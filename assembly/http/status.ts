// Status lines, and the complete responses the module sends on its own: errors
// (a status, then the connection closes) and 100 Continue.

import { send } from "../output";
import { writeDecimal, writeText } from "./bytes";
import { DATE_BYTES, httpDate } from "./date";

export function reasonPhrase(code: u32): string {
  switch (code) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return code < 300 ? "OK" : code < 400 ? "Redirect" : code < 500 ? "Client Error" : "Server Error";
  }
}

/** Writes "HTTP/1.1 <code> <reason>\r\n" at dst; returns its length. */
export function writeStatusLine(dst: usize, code: u32): u32 {
  let n = writeText(dst, "HTTP/1.1 ");
  n += writeDecimal(dst + n, code);
  store<u8>(dst + n++, 0x20);
  n += writeText(dst + n, reasonPhrase(code));
  n += writeText(dst + n, "\r\n");
  return n;
}

/** Writes "Date: <now>\r\n" at dst; returns its length. */
export function writeDateLine(dst: usize): u32 {
  const n = writeText(dst, "Date: ");
  memory.copy(dst + n, httpDate(), DATE_BYTES);
  return n + DATE_BYTES + writeText(dst + n + DATE_BYTES, "\r\n");
}

// What the response says about the connection's persistence.
export const PERSIST_DEFAULT: u32 = 0; // HTTP/1.1 keep-alive: nothing to say
export const PERSIST_CLOSE: u32 = 1; // Connection: close (the caller closes after it)
export const PERSIST_KEEP_ALIVE: u32 = 2; // HTTP/1.0 keep-alive: Connection: keep-alive

/** Writes the Date line, the Connection field if any and the blank line at dst. */
export function writeHeadEnd(dst: usize, persist: u32): u32 {
  let n = writeDateLine(dst);
  if (persist == PERSIST_CLOSE) n += writeText(dst + n, "Connection: close\r\n");
  else if (persist == PERSIST_KEEP_ALIVE) n += writeText(dst + n, "Connection: keep-alive\r\n");
  return n + writeText(dst + n, "\r\n");
}

// Room for the longest error response below (status line, four fields, reason as body).
const SCRATCH = memory.data(320);

/**
 * A complete response whose body is its reason phrase (left out for HEAD); `extra` is
 * a field line of its own ("Allow: …\r\n" for a 405, the version for a 426).
 */
export function sendStatus(slot: u32, code: u32, persist: u32, extra: string = "", head: bool = false): void {
  const p = SCRATCH;
  let n = writeStatusLine(p, code);
  n += writeText(p + n, "Content-Type: text/plain; charset=utf-8\r\nContent-Length: ");
  const reason = reasonPhrase(code);
  n += writeDecimal(p + n, reason.length + 1);
  n += writeText(p + n, "\r\n");
  n += writeText(p + n, extra);
  n += writeHeadEnd(p + n, persist);
  if (!head) {
    n += writeText(p + n, reason);
    store<u8>(p + n++, 0x0a);
  }
  send(slot, p, n);
}

const CONTINUE = memory.data(32);

export function sendContinue(slot: u32): void {
  const n = writeStatusLine(CONTINUE, 100);
  send(slot, CONTINUE, n + writeText(CONTINUE + n, "\r\n"));
}
