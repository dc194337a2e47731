// The request head: a resumable scan for its end, then one pass over the complete
// head. The scan keeps its position in the connection block, so bytes that arrive one
// at a time are each looked at once; the parse runs once per request, on the whole
// head, and fills the static REQ record below.
//
// Every line ends with CRLF. RFC 9112 §2.2 lets a recipient take a bare LF as a line
// end, but a peer in front that does not would read "x: a\nTransfer-Encoding: chunked"
// as one field, and the request's end elsewhere (request smuggling), so a bare LF is
// 400, as in llhttp's strict mode. So are a bare CR, an obs-fold line, whitespace before
// a colon and a control character.

import {
  CR, elementEnd, elementStart, equalsIgnoreCase, HT, isFieldChar, isTokenChar, LF, nextListElement, SP,
} from "./bytes";
import { atLineStart, firstLine, scanned, setAtLineStart, setFirstLine, setScanned } from "./conn";

/** Scans on from where the last call stopped; returns the head's length once complete, else 0. */
export function scanHead(k: usize, p: usize, len: u32): u32 {
  let i = scanned(k);
  let lineStart = atLineStart(k);
  let first = firstLine(k);
  while (i < len) {
    const c = load<u8>(p + i++);
    if (c == LF) {
      if (lineStart) {
        setFirstLine(k, first);
        return i;
      }
      lineStart = true;
      if (first == 0) first = i;
    } else if (c != CR) {
      lineStart = false;
    }
  }
  setScanned(k, i);
  setAtLineStart(k, lineStart);
  setFirstLine(k, first);
  return 0;
}

// The parsed request, valid until the next parse.
const REQ = memory.data(64);
const R_METHOD: usize = 0; // ptr, len
const R_TARGET: usize = 8; // ptr, len
const R_MINOR: usize = 16; // HTTP/1.x
const R_FLAGS: usize = 20;
const R_CONTENT_LENGTH: usize = 24; // u64
const R_HEADERS: usize = 32; // ptr, len: the header lines, for the JS handler
const R_WS_KEY: usize = 40; // ptr, len: Sec-WebSocket-Key
const R_WS_VERSION: usize = 48; // ptr, len: Sec-WebSocket-Version
const R_WS_PROTOCOL: usize = 56; // ptr, len: Sec-WebSocket-Protocol (the client's offer)

// R_FLAGS bits.
export const H_CONTENT_LENGTH: u32 = 1;
export const H_CHUNKED: u32 = 2;
export const H_CLOSE: u32 = 4;
export const H_KEEP_ALIVE: u32 = 8;
export const H_EXPECT_CONTINUE: u32 = 16;
export const H_TRANSFER_ENCODING: u32 = 32;
const H_HOST: u32 = 64;
const H_MANY_HOSTS: u32 = 128;
export const H_UPGRADE_WEBSOCKET: u32 = 256; // Upgrade: websocket
export const H_CONNECTION_UPGRADE: u32 = 512; // Connection: upgrade

@inline export function methodPtr(): usize { return load<u32>(REQ, R_METHOD); }
@inline export function methodLen(): u32 { return load<u32>(REQ, R_METHOD + 4); }
@inline export function targetPtr(): usize { return load<u32>(REQ, R_TARGET); }
@inline export function targetLen(): u32 { return load<u32>(REQ, R_TARGET + 4); }
@inline export function minorVersion(): u32 { return load<u32>(REQ, R_MINOR); }
@inline export function headFlags(): u32 { return load<u32>(REQ, R_FLAGS); }
@inline export function contentLength(): u64 { return load<u64>(REQ, R_CONTENT_LENGTH); }
@inline export function headersPtr(): usize { return load<u32>(REQ, R_HEADERS); }
@inline export function headersLen(): u32 { return load<u32>(REQ, R_HEADERS + 4); }
@inline export function wsKeyPtr(): usize { return load<u32>(REQ, R_WS_KEY); }
@inline export function wsKeyLen(): u32 { return load<u32>(REQ, R_WS_KEY + 4); }
@inline export function wsVersionPtr(): usize { return load<u32>(REQ, R_WS_VERSION); }
@inline export function wsVersionLen(): u32 { return load<u32>(REQ, R_WS_VERSION + 4); }
@inline export function wsProtocolPtr(): usize { return load<u32>(REQ, R_WS_PROTOCOL); }
@inline export function wsProtocolLen(): u32 { return load<u32>(REQ, R_WS_PROTOCOL + 4); }

const TOO_BIG: u64 = 1 << 53; // a Content-Length past this is "too large", not malformed

/** The end of the line starting at p (the LF's offset), or -1. */
function lineEnd(p: usize, from: u32, end: u32): i32 {
  for (let i = from; i < end; i++) if (load<u8>(p + i) == LF) return <i32>i;
  return -1;
}

/** Parses a complete head of len bytes; returns 0, or the status to answer with. */
export function parseHead(p: usize, len: u32, maxUri: u32): u32 {
  store<u32>(REQ, 0, R_FLAGS);
  store<u64>(REQ, 0, R_CONTENT_LENGTH);
  store<u64>(REQ, 0, R_WS_KEY);
  store<u64>(REQ, 0, R_WS_VERSION);
  store<u64>(REQ, 0, R_WS_PROTOCOL);
  let eol = lineEnd(p, 0, len);
  const lineEnd0 = contentEnd(p, 0, <u32>eol);
  if (lineEnd0 < 0) return 400;
  const status = parseRequestLine(p, <u32>lineEnd0, maxUri);
  if (status != 0) return status;
  let pos = <u32>eol + 1;
  store<u32>(REQ, <u32>(p + pos), R_HEADERS);
  store<u32>(REQ, len - pos, R_HEADERS + 4);
  for (;;) {
    eol = lineEnd(p, pos, len);
    const e = contentEnd(p, pos, <u32>eol);
    if (e < 0) return 400; // a bare LF
    const end = <u32>e;
    if (end == pos) break; // the empty line ending the head
    const s = parseField(p + pos, end - pos);
    if (s != 0) return s;
    pos = <u32>eol + 1;
  }
  return checkFraming();
}

/** A line's content end: the CR before its LF; -1 for a bare LF. */
function contentEnd(p: usize, start: u32, lf: u32): i32 {
  return lf > start && load<u8>(p + lf - 1) == CR ? <i32>(lf - 1) : -1;
}

function parseRequestLine(p: usize, end: u32, maxUri: u32): u32 {
  let i: u32 = 0;
  while (i < end && isTokenChar(load<u8>(p + i))) i++;
  if (i == 0 || i >= end || load<u8>(p + i) != SP) return 400;
  store<u32>(REQ, <u32>p, R_METHOD);
  store<u32>(REQ, i, R_METHOD + 4);
  const target = ++i;
  while (i < end && load<u8>(p + i) > SP && load<u8>(p + i) < 0x7f) i++;
  if (i == target || i >= end || load<u8>(p + i) != SP) return 400;
  if (i - target > maxUri) return 414;
  store<u32>(REQ, <u32>(p + target), R_TARGET);
  store<u32>(REQ, i - target, R_TARGET + 4);
  i++;
  // "HTTP/" DIGIT "." DIGIT, and nothing after it.
  if (end - i != 8 || !equalsIgnoreCase(p + i, 5, "http/") || load<u8>(p + i + 6) != 0x2e) return 400;
  const major = <u32>load<u8>(p + i + 5) - 0x30;
  const minor = <u32>load<u8>(p + i + 7) - 0x30;
  if (major > 9 || minor > 9 || load<u8>(p + i) != 0x48) return 400; // the name is case-sensitive
  if (major != 1 || minor > 1) return 505;
  store<u32>(REQ, minor, R_MINOR);
  return 0;
}

function addFlag(f: u32): void {
  store<u32>(REQ, load<u32>(REQ, R_FLAGS) | f, R_FLAGS);
}

function parseField(p: usize, len: u32): u32 {
  const first = load<u8>(p);
  if (first == SP || first == HT) return 400; // obs-fold (RFC 9112 §5.2)
  let i: u32 = 0;
  while (i < len && isTokenChar(load<u8>(p + i))) i++;
  if (i == 0 || i >= len || load<u8>(p + i) != 0x3a) return 400; // no name, or space before ':'
  const nameLen = i++;
  while (i < len && (load<u8>(p + i) == SP || load<u8>(p + i) == HT)) i++;
  let end = len;
  while (end > i && (load<u8>(p + end - 1) == SP || load<u8>(p + end - 1) == HT)) end--;
  for (let j = i; j < end; j++) if (!isFieldChar(load<u8>(p + j))) return 400;
  return fieldMeaning(p, nameLen, p + i, end - i);
}

/** What the fields that decide framing and persistence say. */
function fieldMeaning(name: usize, nameLen: u32, v: usize, vLen: u32): u32 {
  if (equalsIgnoreCase(name, nameLen, "content-length")) return contentLengthField(v, vLen);
  if (equalsIgnoreCase(name, nameLen, "transfer-encoding")) {
    transferEncodingField(v, vLen);
  } else if (equalsIgnoreCase(name, nameLen, "connection")) {
    forEachToken(v, vLen, TOKENS_CONNECTION);
  } else if (equalsIgnoreCase(name, nameLen, "host")) {
    addFlag((headFlags() & H_HOST) != 0 ? H_MANY_HOSTS : H_HOST);
  } else if (equalsIgnoreCase(name, nameLen, "upgrade")) {
    forEachToken(v, vLen, TOKENS_UPGRADE);
  } else if (equalsIgnoreCase(name, nameLen, "sec-websocket-key")) {
    store<u32>(REQ, <u32>v, R_WS_KEY);
    store<u32>(REQ, vLen, R_WS_KEY + 4);
  } else if (equalsIgnoreCase(name, nameLen, "sec-websocket-protocol")) {
    store<u32>(REQ, <u32>v, R_WS_PROTOCOL);
    store<u32>(REQ, vLen, R_WS_PROTOCOL + 4);
  } else if (equalsIgnoreCase(name, nameLen, "sec-websocket-version")) {
    store<u32>(REQ, <u32>v, R_WS_VERSION);
    store<u32>(REQ, vLen, R_WS_VERSION + 4);
  } else if (equalsIgnoreCase(name, nameLen, "expect")) {
    if (!equalsIgnoreCase(v, vLen, "100-continue")) return 417;
    addFlag(H_EXPECT_CONTINUE);
  }
  return 0;
}

/** Content-Length: digits, or a list of the same digits ("5, 5"); two different values are smuggling. */
function contentLengthField(v: usize, vLen: u32): u32 {
  let i: u32 = 0;
  while (i <= vLen) {
    while (i < vLen && (load<u8>(v + i) == SP || load<u8>(v + i) == HT)) i++;
    let n: u64 = 0;
    const start = i;
    while (i < vLen && <u32>load<u8>(v + i) - 0x30 < 10) {
      n = min(n * 10 + (<u64>load<u8>(v + i) - 0x30), TOO_BIG);
      i++;
    }
    if (i == start) return 400;
    while (i < vLen && (load<u8>(v + i) == SP || load<u8>(v + i) == HT)) i++;
    if (i < vLen && load<u8>(v + i) != 0x2c) return 400;
    if ((headFlags() & H_CONTENT_LENGTH) != 0 && contentLength() != n) return 400;
    addFlag(H_CONTENT_LENGTH);
    store<u64>(REQ, n, R_CONTENT_LENGTH);
    i++;
  }
  return 0;
}

const TOKENS_CONNECTION: u32 = 0;
const TOKENS_TRANSFER: u32 = 1;
const TOKENS_UPGRADE: u32 = 2;
// Transfer codings seen, across every Transfer-Encoding field of the head.
const CODINGS = memory.data(12); // codings u32, chunked count u32, chunked-was-last u32
const UNKNOWN_CODING: u32 = 0x80000000;

function transferEncodingField(v: usize, vLen: u32): void {
  if ((headFlags() & H_TRANSFER_ENCODING) == 0) memory.fill(CODINGS, 0, 12);
  addFlag(H_TRANSFER_ENCODING);
  forEachToken(v, vLen, TOKENS_TRANSFER);
}

/** What the elements of a Connection, Upgrade or Transfer-Encoding list say. */
function forEachToken(v: usize, vLen: u32, kind: u32): void {
  for (let at = nextListElement(v, vLen, 0); at >= 0; at = nextListElement(v, vLen, <u32>at)) {
    const t = v + elementStart();
    const n = elementEnd() - elementStart();
    if (kind == TOKENS_CONNECTION) {
      if (equalsIgnoreCase(t, n, "close")) addFlag(H_CLOSE);
      else if (equalsIgnoreCase(t, n, "keep-alive")) addFlag(H_KEEP_ALIVE);
      else if (equalsIgnoreCase(t, n, "upgrade")) addFlag(H_CONNECTION_UPGRADE);
    } else if (kind == TOKENS_UPGRADE) {
      if (equalsIgnoreCase(t, n, "websocket")) addFlag(H_UPGRADE_WEBSOCKET);
    } else {
      const chunked = equalsIgnoreCase(t, n, "chunked");
      store<u32>(CODINGS, load<u32>(CODINGS) + 1);
      if (chunked) store<u32>(CODINGS, load<u32>(CODINGS, 4) + 1, 4);
      else store<u32>(CODINGS, load<u32>(CODINGS) | UNKNOWN_CODING);
      store<u32>(CODINGS, chunked ? 1 : 0, 8);
    }
  }
}

/** How the body is framed, checked once the whole head is known (RFC 9112 §6). */
function checkFraming(): u32 {
  const f = headFlags();
  if (minorVersion() == 1 && (f & (H_HOST | H_MANY_HOSTS)) != H_HOST) return 400; // exactly one Host
  if ((f & H_MANY_HOSTS) != 0) return 400;
  if ((f & H_TRANSFER_ENCODING) == 0) return 0;
  // Both framings, or chunked under HTTP/1.0: a request-smuggling attempt or a broken client.
  if ((f & H_CONTENT_LENGTH) != 0 || minorVersion() == 0) return 400;
  if ((load<u32>(CODINGS) & UNKNOWN_CODING) != 0) return 501;
  // Only "chunked", exactly once, last.
  if (load<u32>(CODINGS, 4) != 1 || load<u32>(CODINGS, 8) != 1) return 400;
  addFlag(H_CHUNKED);
  return 0;
}
