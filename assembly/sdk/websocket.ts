// The WebSocket level of the handler SDK: the module's own RFC 6455 (upgrade, framing,
// masking, fragmentation, UTF-8 checks, ping/pong, the close handshake, 1002/1007/1009),
// with whole messages going to your AssemblyScript within the dispatch.
//
//   export * from "wasm-reactor/assembly/door";
//   import { onMessage, send } from "wasm-reactor/assembly/sdk/websocket";
//
//   onMessage((conn: u32, data: usize, length: u32, binary: bool): void => {
//     send(conn, data, length, binary);             // an echo server
//   });
//
// A message's bytes are valid during the hook only. Plain HTTP requests on the same port
// go to the HTTP level's routes (sdk/http.ts), or get a 404.

import { allocBlock, classOf, freeBlock } from "../alloc";
import { WS_ON } from "../http/config";
import { registerHttp } from "../http/register";
import { inBuf } from "../handles";
import { request } from "../http/conn";
import { publishFromModule } from "../ws/fanout";
import { OP_BINARY, OP_TEXT } from "../ws/frames";
import { moduleClose, modulePing, moduleSend, setModuleHooks } from "../ws/inmodule";
import { isSubscribed as subscribedTo, subscribe as subscribeTo, unsubscribe as unsubscribeFrom } from "../ws/topics";
import { utf8Length, writeUtf8 } from "./format";

// [open hook, message hook, close hook, ping hook, pong hook]
const HOOKS = memory.data(20);

/** A WebSocket was opened (the upgrade is done). */
export function onOpen(fn: (conn: u32) => void): void {
  store<u32>(HOOKS, changetype<u32>(fn), 0);
  useWebSocket();
}

/** A whole message from the client; `binary` false for text (valid UTF-8, checked). */
export function onMessage(fn: (conn: u32, data: usize, length: u32, binary: bool) => void): void {
  store<u32>(HOOKS, changetype<u32>(fn), 4);
  useWebSocket();
}

/** The WebSocket is closed: `code` is the close code (1006 when none was exchanged). */
export function onClose(fn: (conn: u32, code: u32) => void): void {
  store<u32>(HOOKS, changetype<u32>(fn), 8);
  useWebSocket();
}

/**
 * A ping from the client, after the module has queued its pong (RFC 6455 §5.5.2): the
 * payload (up to 125 bytes) is valid during the hook only. A keep-alive check, say.
 */
export function onPing(fn: (conn: u32, data: usize, length: u32) => void): void {
  store<u32>(HOOKS, changetype<u32>(fn), 12);
  useWebSocket();
}

/** A pong from the client (the answer to a ping you sent, or an unsolicited heartbeat): valid during the hook only. */
export function onPong(fn: (conn: u32, data: usize, length: u32) => void): void {
  store<u32>(HOOKS, changetype<u32>(fn), 16);
  useWebSocket();
}

/** The http protocol's hooks with WebSocket upgrades on, with its default limits (http/config.ts); idempotent. */
function useWebSocket(): void {
  setModuleHooks(load<u32>(HOOKS, 0), load<u32>(HOOKS, 4), load<u32>(HOOKS, 8), load<u32>(HOOKS, 12), load<u32>(HOOKS, 16));
  registerHttp(WS_ON);
}

/** Sends a message of `length` bytes at `data` (binary, or text that must be UTF-8). */
export function send(conn: u32, data: usize, length: u32, binary: bool): void {
  moduleSend(conn, data, length, binary);
}

/** Sends a text message. */
export function sendText(conn: u32, text: string): void {
  const length = utf8Length(text);
  const bytes = encode(text, length);
  moduleSend(conn, bytes, length, false); // copied out: the block goes back at once
  release(bytes, length);
}

/** Sends a ping with up to 125 bytes at `data`; the client's pong reaches onPong (the heartbeat pattern). */
export function ping(conn: u32, data: usize = 0, length: u32 = 0): void {
  modulePing(conn, data, length);
}

/**
 * Topics (pub/sub, in the module): subscribe a WebSocket, and publish a message that is
 * framed once and sent to every subscriber, in order, a batch at a time. A subscription
 * ends with its connection. JS subscribers of the same module hear your publishes too.
 */
export function subscribe(conn: u32, topic: string): bool {
  const n = utf8Length(topic);
  const name = encode(topic, n);
  const done = subscribeTo(conn, request(inBuf(conn)), name, n);
  release(name, n);
  return done;
}

export function unsubscribe(conn: u32, topic: string): bool {
  const n = utf8Length(topic);
  const name = encode(topic, n);
  const done = unsubscribeFrom(request(inBuf(conn)), name, n);
  release(name, n);
  return done;
}

export function isSubscribed(conn: u32, topic: string): bool {
  const n = utf8Length(topic);
  const name = encode(topic, n);
  const yes = subscribedTo(request(inBuf(conn)), name, n);
  release(name, n);
  return yes;
}

/** Publishes `length` bytes at `data` (binary, or text that must be UTF-8) to the topic's subscribers; copied at once. */
export function publish(topic: string, data: usize, length: u32, binary: bool): void {
  const n = utf8Length(topic);
  const name = encode(topic, n);
  publishFromModule(name, n, binary ? OP_BINARY : OP_TEXT, data, length);
  release(name, n);
}

export function publishText(topic: string, text: string): void {
  const n = utf8Length(text);
  const bytes = encode(text, n);
  publish(topic, bytes, n, false);
  release(bytes, n);
}

/** The text's n UTF-8 bytes in a block (the runtime has no collector: release() gives it back). */
function encode(text: string, n: u32): usize {
  const bytes = allocBlock(max<u32>(n, 1));
  writeUtf8(bytes, text);
  return bytes;
}

function release(bytes: usize, n: u32): void {
  freeBlock(bytes, classOf(max<u32>(n, 1)));
}

/** Closes with `code` (1000 normal; 1001, 1003, 1007–1011, 3000–4999), after the close handshake. */
export function close(conn: u32, code: u32): void {
  moduleClose(conn, code);
}
