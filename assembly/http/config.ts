// HTTP limits and timeouts, set by the host through setOption before the first
// dispatch. Kept in linear memory (not globals) so a checkpoint holds them.

import {
  OPT_HEADER_TIMEOUT_MS, OPT_IDLE_TIMEOUT_MS, OPT_JS_HANDLER, OPT_MAX_BODY_BYTES, OPT_MAX_HEADER_BYTES, OPT_MAX_URI_BYTES,
} from "../abi";

const CONFIG = memory.data<u32>([
  16 * 1024, // max header bytes: node:http's default
  8 * 1024, // max URI bytes
  1024 * 1024, // max body bytes
  60 * 1000, // header timeout: node:http's headersTimeout
  5 * 1000, // idle (keep-alive) timeout: node:http's keepAliveTimeout
  0, // JS handler: off (unrouted requests are 404)
]);

export function setHttpOption(key: u32, value: u32): bool {
  if (key < OPT_MAX_HEADER_BYTES || key > OPT_JS_HANDLER) return false;
  store<u32>(CONFIG + (key - 1) * 4, value);
  return true;
}

@inline export function maxHeaderBytes(): u32 { return load<u32>(CONFIG + (OPT_MAX_HEADER_BYTES - 1) * 4); }
@inline export function maxUriBytes(): u32 { return load<u32>(CONFIG + (OPT_MAX_URI_BYTES - 1) * 4); }
@inline export function maxBodyBytes(): u32 { return load<u32>(CONFIG + (OPT_MAX_BODY_BYTES - 1) * 4); }
@inline export function headerTimeoutMs(): u32 { return load<u32>(CONFIG + (OPT_HEADER_TIMEOUT_MS - 1) * 4); }
@inline export function idleTimeoutMs(): u32 { return load<u32>(CONFIG + (OPT_IDLE_TIMEOUT_MS - 1) * 4); }
@inline export function jsHandler(): bool { return load<u32>(CONFIG + (OPT_JS_HANDLER - 1) * 4) != 0; }
