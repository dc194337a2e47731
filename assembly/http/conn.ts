// Per-connection HTTP state: one 64-byte block, allocated at accept and pointed to by
// the handle table's input word (handles.ts), so an idle keep-alive connection costs
// its handle entry plus this block. The block holds the connection's leftover input
// buffer, the head scanner's resume point, the body decoder's state and the timer links.
//
//   0 phase u8 · 1 flags u8 · 2 chunk state u8 · 3 scanner at line start u8
//   4 head bytes scanned · 8 first line length (0 until seen) · 12 body bytes remaining
//  16 body bytes so far · 20 chunk-ext/trailer bytes · 24 route (index + 1, or 0)
//  28 leftover input buffer · 32 timer prev · 36 timer next · 40 deadline · 44 timer list
//  48 request for the handler (a buffer) · 52 response framing u8 · 53 response persistence u8
//  54 connection flags u8 · 56 when the request began (ms)
// A request streamed to the host (RF_STREAMED) has no route: its word 24 counts the body
// bytes handed to JS and not yet read there (stream.ts).

import { allocBlock, classOf, freeBlock } from "../alloc";
import { bufFree } from "../buffer";

export const CONN_BLOCK_BYTES: u32 = 64;

// Phases of a connection, in the order a request goes through them.
export const PH_HEAD: u8 = 0; // reading a request line and headers
export const PH_BODY: u8 = 1; // reading a Content-Length body
export const PH_CHUNKED: u8 = 2; // reading a chunked body
export const PH_DONE: u8 = 3; // answered for good (an error or Connection: close): input is ignored
export const PH_WAIT_ANSWER: u8 = 4; // the handler deferred its answer (JS has the request); later input waits for it
export const PH_WS: u8 = 6; // upgraded: WebSocket frames (ws/), with the ws state in the request word
export const PH_LINGER: u8 = 5; // answered 413 while the body still streams in: read and drop it, then close
export const PH_VERIFY: u8 = 7; // an upgrade waits for the host's verdict, its 101 ready in the request word; later input waits

// Flags of the request being read.
export const RF_KEEP_ALIVE: u8 = 1;
export const RF_HEAD: u8 = 2; // HEAD: the response has no body
export const RF_HTTP10: u8 = 4;
export const RF_METHOD_OK: u8 = 8; // GET or HEAD: the methods a static route answers
export const RF_TO_HANDLER: u8 = 16; // the module's handler (request hook) answers this request
export const RF_STREAMED: u8 = 32; // the host's handler has it, head first, body in pieces; cleared when the exchange is over (stream.ts)
export const RF_ANSWERED: u8 = 64; // streamed: the answer ended before the body did (the rest of the body is read and dropped)
export const RF_ANSWER_BEGUN: u8 = 128; // the handler's first piece (status and fields) has gone out

// Flags of the connection, kept across its requests.
export const CF_PEER_EOF: u8 = 1; // the client has finished sending: answer what it sent whole, then close
export const CF_DRAIN: u8 = 2; // shutdown: close after the answer the JS handler owes
export const CF_JS_FLOW: u8 = 4; // JS has streamed a request here: it hears how much output is unsent (stream.ts)

const K_PHASE: usize = 0;
const K_FLAGS: usize = 1;
const K_CHUNK: usize = 2;
const K_LINE_START: usize = 3;
const K_SCANNED: usize = 4;
const K_FIRST_LINE: usize = 8;
const K_REMAINING: usize = 12;
const K_BODY_TOTAL: usize = 16;
const K_SIDE: usize = 20;
const K_ROUTE: usize = 24;
const K_INPUT: usize = 28;
export const K_TIMER_PREV: usize = 32;
export const K_TIMER_NEXT: usize = 36;
export const K_DEADLINE: usize = 40;
export const K_TIMER_LIST: usize = 44;
const K_REQUEST: usize = 48;
const K_FRAMING: usize = 52;
const K_PERSIST: usize = 53;
const K_CONN_FLAGS: usize = 54;
const K_STARTED: usize = 56;

export function connBlockNew(): usize {
  const k = allocBlock(CONN_BLOCK_BYTES);
  memory.fill(k, 0, CONN_BLOCK_BYTES);
  return k;
}

export function connBlockFree(k: usize): void {
  bufFree(input(k));
  bufFree(request(k));
  freeBlock(k, classOf(CONN_BLOCK_BYTES));
}

@inline export function phase(k: usize): u8 { return load<u8>(k, K_PHASE); }
@inline export function setPhase(k: usize, p: u8): void { store<u8>(k, p, K_PHASE); }
@inline export function reqFlags(k: usize): u8 { return load<u8>(k, K_FLAGS); }
@inline export function setReqFlags(k: usize, f: u8): void { store<u8>(k, f, K_FLAGS); }
@inline export function chunkState(k: usize): u8 { return load<u8>(k, K_CHUNK); }
@inline export function setChunkState(k: usize, s: u8): void { store<u8>(k, s, K_CHUNK); }
@inline export function atLineStart(k: usize): bool { return load<u8>(k, K_LINE_START) != 0; }
@inline export function setAtLineStart(k: usize, v: bool): void { store<u8>(k, v ? 1 : 0, K_LINE_START); }
@inline export function scanned(k: usize): u32 { return load<u32>(k, K_SCANNED); }
@inline export function setScanned(k: usize, n: u32): void { store<u32>(k, n, K_SCANNED); }
@inline export function firstLine(k: usize): u32 { return load<u32>(k, K_FIRST_LINE); }
@inline export function setFirstLine(k: usize, n: u32): void { store<u32>(k, n, K_FIRST_LINE); }
@inline export function remaining(k: usize): u32 { return load<u32>(k, K_REMAINING); }
@inline export function setRemaining(k: usize, n: u32): void { store<u32>(k, n, K_REMAINING); }
@inline export function bodyTotal(k: usize): u32 { return load<u32>(k, K_BODY_TOTAL); }
@inline export function setBodyTotal(k: usize, n: u32): void { store<u32>(k, n, K_BODY_TOTAL); }
@inline export function sideBytes(k: usize): u32 { return load<u32>(k, K_SIDE); }
@inline export function setSideBytes(k: usize, n: u32): void { store<u32>(k, n, K_SIDE); }
@inline export function route(k: usize): u32 { return load<u32>(k, K_ROUTE); }
@inline export function setRoute(k: usize, r: u32): void { store<u32>(k, r, K_ROUTE); }
@inline export function input(k: usize): usize { return load<u32>(k, K_INPUT); }
@inline export function setInput(k: usize, buf: usize): void { store<u32>(k, <u32>buf, K_INPUT); }

@inline export function request(k: usize): usize { return load<u32>(k, K_REQUEST); }
@inline export function setRequest(k: usize, buf: usize): void { store<u32>(k, <u32>buf, K_REQUEST); }
@inline export function framing(k: usize): u8 { return load<u8>(k, K_FRAMING); }
@inline export function setFraming(k: usize, f: u8): void { store<u8>(k, f, K_FRAMING); }
@inline export function persistence(k: usize): u8 { return load<u8>(k, K_PERSIST); }
@inline export function setPersistence(k: usize, p: u8): void { store<u8>(k, p, K_PERSIST); }
@inline export function connFlags(k: usize): u8 { return load<u8>(k, K_CONN_FLAGS); }
@inline export function addConnFlags(k: usize, f: u8): void { store<u8>(k, connFlags(k) | f, K_CONN_FLAGS); }
@inline export function started(k: usize): u32 { return load<u32>(k, K_STARTED); }
@inline export function setStarted(k: usize, ms: u32): void { store<u32>(k, ms, K_STARTED); }
@inline export function bodyInFlight(k: usize): u32 { return load<u32>(k, K_ROUTE); }
@inline export function setBodyInFlight(k: usize, n: u32): void { store<u32>(k, n, K_ROUTE); }
@inline export function addReqFlags(k: usize, f: u8): void { store<u8>(k, reqFlags(k) | f, K_FLAGS); }
@inline export function clearReqFlags(k: usize, f: u8): void { store<u8>(k, reqFlags(k) & ~f, K_FLAGS); }

/** Back to reading a head: the scanner starts afresh. */
export function resetForHead(k: usize): void {
  setPhase(k, PH_HEAD);
  setScanned(k, 0);
  setFirstLine(k, 0);
  setAtLineStart(k, false);
}
