// Answers from the JS handler: EV_RESPONSE pieces, written by the host into the arena.
//
//   flags u32 · status u32 · fields length u32 · fields ("Name: value\r\n"…) · body bytes
//   flags: 1 HEAD (status and fields present: the first piece) · 2 END (the last piece)
//          · 4 LENGTH (the fields hold the Content-Length) · 8 CLOSE (the handler asked to close)
//          · 16 REASON (the fields begin with the reason phrase and CRLF: res.statusMessage)
//          · 32 ABORT (nothing else: close the connection now, dropping what is unsent)
//
// The module writes the status line, Date and framing itself: Content-Length when the
// first piece is also the last, chunked when the body comes in pieces (close-delimited
// for HTTP/1.0), none for 1xx, 204 and 304; HEAD requests get the head only.

import { send } from "../output";
import { writeDecimal, writeText } from "./bytes";
import {
  framing, persistence, reqFlags, RF_HEAD, RF_HTTP10, RF_KEEP_ALIVE, setFraming, setPersistence,
} from "./conn";
import { PERSIST_CLOSE, PERSIST_DEFAULT, PERSIST_KEEP_ALIVE, writeHeadEnd, writeStatusLine } from "./status";

const P_HEAD: u32 = 1;
const P_END: u32 = 2;
const P_LENGTH: u32 = 4;
const P_CLOSE: u32 = 8;
const P_REASON: u32 = 16;
export const P_ABORT: u32 = 32; // (with END) close the connection at once: the answer cannot be completed
const PIECE_HEADER: u32 = 12;

// How the body is framed on the wire.
const FRAME_NONE: u8 = 0; // no body (1xx, 204, 304)
const FRAME_RAW: u8 = 1; // Content-Length (ours or the handler's), or close-delimited
const FRAME_CHUNKED: u8 = 2;

const SCRATCH = memory.data(192);

/** Writes one piece; returns whether it was the last (false also for a malformed piece, which is dropped). */
export function respondPiece(slot: u32, k: usize, p: usize, len: u32): bool {
  if (len < PIECE_HEADER) return false;
  const flags = load<u32>(p);
  const fieldsLen = load<u32>(p, 8);
  if (fieldsLen > len - PIECE_HEADER) return false;
  const body = p + PIECE_HEADER + fieldsLen;
  const bodyLen = len - PIECE_HEADER - fieldsLen;
  if ((flags & P_HEAD) != 0) writeHead(slot, k, flags, load<u32>(p, 4), p + PIECE_HEADER, fieldsLen, bodyLen);
  const withBody = (reqFlags(k) & RF_HEAD) == 0;
  if (withBody && framing(k) == FRAME_CHUNKED) {
    if (bodyLen != 0) {
      let n = writeHex(SCRATCH, bodyLen);
      n += writeText(SCRATCH + n, "\r\n");
      send(slot, SCRATCH, n);
      send(slot, body, bodyLen);
      send(slot, SCRATCH + n - 2, 2);
    }
    if ((flags & P_END) != 0) send(slot, SCRATCH, writeText(SCRATCH, "0\r\n\r\n"));
  } else if (withBody && framing(k) == FRAME_RAW) {
    send(slot, body, bodyLen);
  }
  return (flags & P_END) != 0;
}

/** Whether the connection stays open after this answer. */
export function keepsAlive(k: usize): bool {
  return persistence(k) != <u8>PERSIST_CLOSE;
}

function writeHead(slot: u32, k: usize, flags: u32, status: u32, fields: usize, fieldsLen: u32, bodyLen: u32): void {
  const rf = reqFlags(k);
  let persist = (rf & RF_KEEP_ALIVE) == 0 || (flags & P_CLOSE) != 0 ? PERSIST_CLOSE
    : (rf & RF_HTTP10) != 0 ? PERSIST_KEEP_ALIVE : PERSIST_DEFAULT;
  let frame = FRAME_RAW;
  let length: i64 = -1; // the Content-Length we write, if any
  if (status < 200 || status == 204 || status == 304) {
    frame = FRAME_NONE;
  } else if ((flags & P_LENGTH) != 0) {
    frame = FRAME_RAW;
  } else if ((flags & P_END) != 0) {
    length = bodyLen;
  } else if ((rf & RF_HTTP10) != 0) {
    persist = PERSIST_CLOSE; // HTTP/1.0 has no chunked: the body ends with the connection
  } else {
    frame = FRAME_CHUNKED;
  }
  setFraming(k, frame);
  setPersistence(k, <u8>persist);
  const reasonLen = (flags & P_REASON) != 0 ? lineLength(fields, fieldsLen) : -1;
  if (reasonLen < 0) {
    send(slot, SCRATCH, writeStatusLine(SCRATCH, status));
  } else {
    let n = writeText(SCRATCH, "HTTP/1.1 ");
    n += writeDecimal(SCRATCH + n, status);
    store<u8>(SCRATCH + n++, 0x20);
    send(slot, SCRATCH, n);
    send(slot, fields, <u32>reasonLen + 2); // the reason and its CRLF
    fields += <u32>reasonLen + 2;
    fieldsLen -= <u32>reasonLen + 2;
  }
  send(slot, fields, fieldsLen);
  let n: u32 = 0;
  if (length >= 0) {
    n = writeText(SCRATCH, "Content-Length: ");
    n += writeDecimal(SCRATCH + n, <u64>length);
    n += writeText(SCRATCH + n, "\r\n");
  } else if (frame == FRAME_CHUNKED) {
    n = writeText(SCRATCH, "Transfer-Encoding: chunked\r\n");
  }
  n += writeHeadEnd(SCRATCH + n, persist);
  send(slot, SCRATCH, n);
}

/** The length of the line at p (up to CRLF), or -1 if there is none. */
function lineLength(p: usize, len: u32): i32 {
  for (let i: u32 = 0; i + 1 < len; i++) {
    if (load<u8>(p + i) == 0x0d && load<u8>(p + i + 1) == 0x0a) return <i32>i;
  }
  return -1;
}

function writeHex(dst: usize, v: u32): u32 {
  let digits: u32 = 1;
  while (digits < 8 && (v >>> (digits * 4)) != 0) digits++;
  for (let i: u32 = 0; i < digits; i++) {
    const d = (v >>> ((digits - 1 - i) * 4)) & 15;
    store<u8>(dst + i, <u8>(d < 10 ? 0x30 + d : 0x61 + d - 10));
  }
  return digits;
}
