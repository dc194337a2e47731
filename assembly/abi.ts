// The host–module contract, module side. docs/ABI.md is the single truth;
// native/abi.h mirrors these numbers and test/abi.test.ts checks they agree.
//
//   header (64 B) | event ring (evCap × 16 B) | submission ring (subCap × 16 B) | arena (2 × half)
//
// Every record in both rings is 16 bytes: { op: u32, conn: u32, a: u32, b: u32 }.

export const ABI_MAGIC: u32 = 0x31415257; // "WRA1" little-endian
export const ABI_VERSION: u32 = 6;

export const RECORD_BYTES: u32 = 16;
export const HEADER_BYTES: u32 = 64;

// Header words (byte offsets from the header pointer).
export const H_MAGIC: u32 = 0;
export const H_VERSION: u32 = 4;
export const H_EV_RING: u32 = 8;
export const H_EV_CAP: u32 = 12;
export const H_SUB_RING: u32 = 16;
export const H_SUB_CAP: u32 = 20;
export const H_ARENA: u32 = 24;
export const H_ARENA_HALF: u32 = 28;
export const H_MAX_CONNS: u32 = 32;
export const H_FLAGS: u32 = 36;
export const H_OPEN_CONNS: u32 = 40;
export const H_NOW_MS: u32 = 44; // host, before each dispatch: a monotonic clock in ms (wraps)
export const H_UNIX_SECONDS: u32 = 48; // host, before each dispatch: the wall clock
export const H_DEADLINE: u32 = 52; // module: the NOW_MS by which it wants a dispatch (with FLAG_TIMER)
export const H_CURRENT: u32 = 56; // module, during dispatch: the event record being handled (its index), or NOT_A_RECORD
export const H_CURRENT_CONN: u32 = 60; // module, during dispatch: the connection whose timer or call-timeout hook runs, or 0

/** H_CURRENT after the records: the batch's work is no longer one record's (sweeps, timers, flush). */
export const NOT_A_RECORD: u32 = 0xffffffff;

// H_FLAGS bits, written by the module at the end of dispatch.
export const FLAG_MORE: u32 = 1; // call dispatch again even if no event is ready
export const FLAG_TIMER: u32 = 2; // call dispatch by H_DEADLINE even if no event is ready

// Events: host → module.
export const EV_ACCEPT: u32 = 1; // a = listener index | peer port << 16, b = peer IPv4 address (0: unknown, or IPv6)
export const EV_DATA: u32 = 2; // a = pointer into the arena, b = length
export const EV_EOF: u32 = 3; // the peer shut down its sending side
export const EV_ERROR: u32 = 4; // a = errno; the connection is dead, the module must CLOSE it
export const EV_WRITABLE: u32 = 5; // the socket accepts output again (only while OUT interest is on)
export const EV_SENT: u32 = 6; // a = pointer to the first unsent byte, b = unsent length
export const EV_SHUTDOWN: u32 = 7; // conn = 0: drain output and close every connection
export const EV_RESPONSE: u32 = 8; // http: a = pointer into the arena, b = length of a response piece from JS
export const EV_WS_SEND: u32 = 9; // ws: a piece of a message from JS to frame and send (ws/js.ts)
export const EV_WS_CLOSE: u32 = 10; // ws: JS closes the connection: code u32, reason
export const EV_WS_BROADCAST: u32 = 11; // ws, conn = 0: a piece of a message for every open WebSocket
export const EV_CALL_RESULT: u32 = 12; // the application's answer to a host call: a = pointer, b = length of { call id u32, status u32, data } (calls.ts)
export const EV_BODY_READ: u32 = 13; // http: a = pointer, b = length of { n u32 }: JS read n bytes of the body streamed to it (http/stream.ts)
export const EV_WS_ACCEPT: u32 = 14; // ws: JS's verifyClient accepted the upgrade waiting for it (a refusal is an EV_RESPONSE answer)
export const EV_WS_PUBLISH: u32 = 15; // ws, conn = 0: a piece of a message for a topic's subscribers (ws/fanout.ts)
export const EV_WS_SUBSCRIBE: u32 = 16; // ws: subscribe (1) or unsubscribe (0) u32 · topic: JS's ws.subscribe (ws/topics.ts)

// Submissions: module → host.
export const OP_SEND: u32 = 1; // a = pointer, b = length; reported (EV_SENT) only if short
export const OP_SEND_NOTIFY: u32 = 2; // as OP_SEND, but always reported with EV_SENT
export const OP_INTEREST: u32 = 3; // a = INTEREST_* mask
export const OP_CLOSE: u32 = 4; // close the socket; the id is dead from now on
export const OP_OUTBOX: u32 = 6; // conn = 0, a = pointer, b = length: this batch's requests and events for JS (outbox.ts); last in the ring

export const INTEREST_IN: u32 = 1;
export const INTEREST_OUT: u32 = 2;

// Connection ids: slot in the low 20 bits, generation in the high 12.
export const SLOT_BITS: u32 = 20;
export const SLOT_MASK: u32 = (1 << SLOT_BITS) - 1;
export const MAX_SLOTS: u32 = 1 << SLOT_BITS;

// init flags.
export const INIT_TRAP_ON_MAGIC: u32 = 1; // fault injection: abort on input holding TRAP_MAGIC


// setOption keys (called after init, before the first dispatch).
export const OPT_MAX_HEADER_BYTES: u32 = 1; // request line + headers, terminator included (431)
export const OPT_MAX_URI_BYTES: u32 = 2; // request-target (414)
export const OPT_MAX_BODY_BYTES: u32 = 3; // request body (413)
export const OPT_HEADER_TIMEOUT_MS: u32 = 4; // from connect or first byte to the end of the headers (408)
export const OPT_IDLE_TIMEOUT_MS: u32 = 5; // keep-alive: between a response and the next request
export const OPT_JS_HANDLER: u32 = 6; // requests no route answers go to the host (through the outbox): 1 whole, 2 streamed (http/stream.ts)
export const OPT_WS_MAX_PAYLOAD: u32 = 7; // WebSocket: the largest message (1009)
export const OPT_WS_MAX_BUFFERED: u32 = 8; // WebSocket: unsent bytes past which a message from JS is refused
export const OPT_CONN_IDLE_TIMEOUT_MS: u32 = 10; // echo, line: close a connection that sent nothing this long (0: never)
export const OPT_WS_DROP_ON_LIMIT: u32 = 9; // 1: refused messages are dropped; 0: the connection closes with 1008
export const OPT_MAX_LINE: u32 = 11; // line: the longest line accepted (newline excluded)
export const OPT_CPU_BUDGET: u32 = 12; // (the core's) units of work a handler's metered code may spend per event (0: no limit)
export const OPT_CALL_TIMEOUT_MS: u32 = 13; // (the core's) a host call unanswered this long is answered CALL_TIMED_OUT
export const OPT_ANSWER_TIMEOUT_MS: u32 = 14; // http: the host's handler silent this long (no piece, no body read) → 503 or close (0: never)
export const OPT_REQUEST_TIMEOUT_MS: u32 = 15; // http: a request (head and body) still arriving this long after it began → 408 (0: never)
export const OPT_MAX_STREAMED_BODY_BYTES: u32 = 16; // http: the largest body streamed to the host (413; 0: up to 4 GiB − 1)
export const OPT_WS_VERIFY: u32 = 17; // ws: 1: an upgrade waits for JS's verdict (verifyClient) before its 101
export const OPT_THREAD_INDEX: u32 = 18; // ws: which sub-reactor this module serves (threads), for publishes that skip a connection
