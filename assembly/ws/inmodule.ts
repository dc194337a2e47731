// The WebSocket hooks: opens, whole messages, pings and closes of upgraded connections
// go to the functions the module's handler registered (the SDK's WebSocket level),
// within the dispatch.

import { inBuf } from "../handles";
import { request } from "../http/conn";
import { send } from "../output";
import { closeWith, headerSize, OP_BINARY, OP_PING, OP_PONG, OP_TEXT, sendFrame, writeFrameHeader } from "./frames";
import { CLOSE_SENT, W_CLOSE, W_CLOSE_CODE } from "./state";

type ConnHook = (conn: u32) => void;
type MessageHook = (conn: u32, data: usize, length: u32, binary: bool) => void;
type CloseHook = (conn: u32, code: u32) => void;
type PingHook = (conn: u32, data: usize, length: u32) => void; // and pongs

// The hooks (function references, 0 when not registered): open, message, close, ping, pong.
const HOOKS = memory.data(20);
// The message the hook has: where it lies, and the bytes of the client's spent frame
// header before it, free to overwrite (0 once used, or when the message was assembled).
const CURRENT = memory.data(12);

// The WebSocket block of the connection whose close hook runs (0 otherwise), for closingBlock().
// In memory, not a global, so that rollback and checkpoints carry it (test/checkpoint.test.ts).
const CLOSING = memory.data(4);

export function setModuleHooks(open: u32, message: u32, close: u32, ping: u32, pong: u32): void {
  store<u32>(HOOKS, open, 0);
  store<u32>(HOOKS, message, 4);
  store<u32>(HOOKS, close, 8);
  store<u32>(HOOKS, ping, 12);
  store<u32>(HOOKS, pong, 16);
}

// The host's verdict on upgrades (verifyClient, the JS bridge): asked with the upgrade
// request still parsed; told when an upgrade it was asked about ends without one.
const VERIFY_HOOKS = memory.data(8);

export function setVerifyHooks(ask: u32, abandoned: u32): void {
  store<u32>(VERIFY_HOOKS, ask);
  store<u32>(VERIFY_HOOKS, abandoned, 4);
}

/** An upgrade waits for the host's verdict (http/handler.ts PH_VERIFY). */
export function moduleVerify(slot: u32): void {
  const hook = load<u32>(VERIFY_HOOKS);
  if (hook != 0) changetype<ConnHook>(hook)(slot);
}

/** An upgrade that waited for a verdict ends without one (refused, timed out, or the client left). */
export function moduleVerifyAbandoned(slot: u32): void {
  const hook = load<u32>(VERIFY_HOOKS, 4);
  if (hook != 0) changetype<ConnHook>(hook)(slot);
}

/** The upgrade is done: the connection speaks frames. */
export function moduleOpened(slot: u32): void {
  const hook = load<u32>(HOOKS, 0);
  if (hook != 0) changetype<ConnHook>(hook)(slot);
}

/** A whole message from the client, a ping once its pong is queued, or a pong (wsFeed's sink). */
export function moduleMessage(slot: u32, opcode: u8, p: usize, len: u32, headroom: u32): void {
  if (opcode == OP_PING || opcode == OP_PONG) {
    const hook = load<u32>(HOOKS + (opcode == OP_PING ? 12 : 16));
    if (hook != 0) changetype<PingHook>(hook)(slot, p, len);
    return;
  }
  const hook = load<u32>(HOOKS, 4);
  if (hook == 0) return;
  store<u32>(CURRENT, <u32>p, 0);
  store<u32>(CURRENT, len, 4);
  store<u32>(CURRENT, headroom, 8);
  changetype<MessageHook>(hook)(slot, p, len, opcode != OP_TEXT);
  store<u32>(CURRENT, 0, 8);
}


/** The connection is gone: the close code (1006 if no close frame was exchanged). */
export function moduleClosed(slot: u32, w: usize): void {
  const hook = load<u32>(HOOKS, 8);
  const code = load<u16>(w, W_CLOSE_CODE);
  store<u32>(CLOSING, <u32>w);
  if (hook != 0) changetype<CloseHook>(hook)(slot, code != 0 ? code : 1006);
  store<u32>(CLOSING, 0);
}

/** During the close hook: the closing connection's WebSocket block (its close reason, flags). */
export function closingBlock(): usize {
  return <usize>load<u32>(CLOSING);
}

@inline function block(slot: u32): usize {
  return request(inBuf(slot));
}

/**
 * Sends one message, unless the connection is closing. The message the hook was handed,
 * sent back whole, goes from where it lies: its frame header is written over the
 * client's, and the frame leaves in one send without a copy (how ws-echo echoes).
 */
export function moduleSend(slot: u32, p: usize, len: u32, binary: bool): void {
  if ((load<u8>(block(slot), W_CLOSE) & CLOSE_SENT) != 0) return;
  const opcode = binary ? OP_BINARY : OP_TEXT;
  const hs = headerSize(len);
  if (p == <usize>load<u32>(CURRENT, 0) && len == load<u32>(CURRENT, 4) && load<u32>(CURRENT, 8) >= hs) {
    store<u32>(CURRENT, 0, 8); // a second send of it must not rewrite the header the first one uses
    writeFrameHeader(p - hs, opcode, len);
    send(slot, p - hs, hs + len);
    return;
  }
  sendFrame(slot, opcode, p, len);
}

/** Sends a ping (the client answers with a pong: the pong hook), unless the connection is closing. */
export function modulePing(slot: u32, p: usize, len: u32): void {
  if ((load<u8>(block(slot), W_CLOSE) & CLOSE_SENT) == 0) sendFrame(slot, OP_PING, p, min<u32>(len, 125));
}

/** Starts the close handshake with `code`, then the connection closes. */
export function moduleClose(slot: u32, code: u32): void {
  closeWith(slot, block(slot), code);
}
