// HTTP limits and timeouts: these defaults, or what the host sets through setOption
// before the first dispatch (a handler module on the SDK keeps the defaults). Kept in
// linear memory (not globals) so a checkpoint holds them.

import {
  OPT_ANSWER_TIMEOUT_MS, OPT_CALL_TIMEOUT_MS, OPT_CONN_IDLE_TIMEOUT_MS, OPT_CPU_BUDGET, OPT_HEADER_TIMEOUT_MS, OPT_IDLE_TIMEOUT_MS,
  OPT_JS_HANDLER, OPT_MAX_BODY_BYTES, OPT_MAX_HEADER_BYTES, OPT_MAX_LINE, OPT_MAX_STREAMED_BODY_BYTES, OPT_MAX_URI_BYTES,
  OPT_REQUEST_TIMEOUT_MS, OPT_THREAD_INDEX, OPT_WS_DROP_ON_LIMIT, OPT_WS_MAX_BUFFERED, OPT_WS_MAX_PAYLOAD, OPT_WS_VERIFY,
} from "../abi";
import { pathLength } from "./bytes";

const CONFIG = memory.data<u32>([
  16 * 1024, // max header bytes: node:http's default
  8 * 1024, // max URI bytes
  1024 * 1024, // max body bytes
  60 * 1000, // header timeout: node:http's headersTimeout
  5 * 1000, // idle (keep-alive) timeout: node:http's keepAliveTimeout
  0, // JS handler: off (unrouted requests are 404)
  16 * 1024 * 1024, // WebSocket max message
  16 * 1024 * 1024, // WebSocket max buffered (unsent) bytes before a message from JS is refused
  0, // WebSocket: refused messages close the connection (1008) rather than being dropped
  0, 0, 0, 0, // keys 10 to 13 are the core's
  120 * 1000, // answer timeout: the host's handler silent this long
  300 * 1000, // request timeout: node:http's requestTimeout
  0, // max streamed body bytes: no limit but the u32 length
  0, // WebSocket upgrades wait for the host's verdict: off
  0, // the sub-reactor this module serves: 0 (one reactor)
  0, // WebSocket mode (not an option: the protocol sets it): WS_OFF or WS_ON
]);
const WS_MODE_INDEX: u32 = 18;
// The WebSocket path, if upgrades are limited to one: pointer and length (0: any path).
const WS_PATH = memory.data(8);

export function setHttpOption(key: u32, value: u32): bool {
  if (key < OPT_MAX_HEADER_BYTES || key > OPT_THREAD_INDEX) return false;
  if (key == OPT_CONN_IDLE_TIMEOUT_MS || key == OPT_MAX_LINE || key == OPT_CPU_BUDGET || key == OPT_CALL_TIMEOUT_MS) return false;
  store<u32>(CONFIG + (key - 1) * 4, value);
  return true;
}

@inline export function maxHeaderBytes(): u32 { return load<u32>(CONFIG + (OPT_MAX_HEADER_BYTES - 1) * 4); }
@inline export function maxUriBytes(): u32 { return load<u32>(CONFIG + (OPT_MAX_URI_BYTES - 1) * 4); }
@inline export function maxBodyBytes(): u32 { return load<u32>(CONFIG + (OPT_MAX_BODY_BYTES - 1) * 4); }
@inline export function headerTimeoutMs(): u32 { return load<u32>(CONFIG + (OPT_HEADER_TIMEOUT_MS - 1) * 4); }
@inline export function idleTimeoutMs(): u32 { return load<u32>(CONFIG + (OPT_IDLE_TIMEOUT_MS - 1) * 4); }
/** Whether requests no route answers go to the request hook (OPT_JS_HANDLER: the host has a 'request' listener, or the SDK's router is used). */
@inline export function handlerOn(): bool { return load<u32>(CONFIG + (OPT_JS_HANDLER - 1) * 4) != 0; }
/** Whether requests for the host stream (OPT_JS_HANDLER 2: a 'request' listener): head first, then the body in pieces (stream.ts). */
@inline export function handlerStreams(): bool { return load<u32>(CONFIG + (OPT_JS_HANDLER - 1) * 4) == 2; }
@inline export function answerTimeoutMs(): u32 { return load<u32>(CONFIG + (OPT_ANSWER_TIMEOUT_MS - 1) * 4); }
@inline export function requestTimeoutMs(): u32 { return load<u32>(CONFIG + (OPT_REQUEST_TIMEOUT_MS - 1) * 4); }
/** The largest body streamed to the host: the option, or (0) what a u32 length holds. */
export function maxStreamedBodyBytes(): u32 {
  const v = load<u32>(CONFIG + (OPT_MAX_STREAMED_BODY_BYTES - 1) * 4);
  return v == 0 ? 0xffffffff : v;
}
@inline export function wsMaxPayload(): u32 { return load<u32>(CONFIG + (OPT_WS_MAX_PAYLOAD - 1) * 4); }

@inline export function wsMaxBuffered(): u32 { return load<u32>(CONFIG + (OPT_WS_MAX_BUFFERED - 1) * 4); }
@inline export function wsDropOnLimit(): bool { return load<u32>(CONFIG + (OPT_WS_DROP_ON_LIMIT - 1) * 4) != 0; }
/** Which sub-reactor this module serves (threads; 0 with one reactor). */
@inline export function threadIndex(): u32 { return load<u32>(CONFIG + (OPT_THREAD_INDEX - 1) * 4); }
/** Whether an upgrade waits for the host's verdict (verifyClient) before its 101. */
@inline export function wsVerifies(): bool { return load<u32>(CONFIG + (OPT_WS_VERIFY - 1) * 4) != 0; }

export const WS_OFF: u32 = 0;
export const WS_ON: u32 = 1; // upgrades accepted; opens, messages and closes go to the WebSocket hooks (ws/inmodule.ts)
@inline export function wsMode(): u32 { return load<u32>(CONFIG + WS_MODE_INDEX * 4); }
export function setWsMode(mode: u32): void { store<u32>(CONFIG + WS_MODE_INDEX * 4, mode); }

export function setWsPath(p: usize, len: u32): void {
  store<u32>(WS_PATH, <u32>p);
  store<u32>(WS_PATH, len, 4);
}

/** Whether a request target may upgrade: any, or the configured path (the query ignored). */
export function wsPathMatches(target: usize, targetLen: u32): bool {
  const len = load<u32>(WS_PATH, 4);
  if (len == 0) return true;
  return pathLength(target, targetLen) == len && memory.compare(load<u32>(WS_PATH), target, len) == 0;
}
