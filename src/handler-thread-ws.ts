// The WebSocket side of a handler worker (src/handler-thread.ts): the application's
// module exports `message(data, isBinary, socket)` (and, if it likes, `open(socket)` and
// `close(socket, code)`); each call runs here, on a worker thread, and what it does to the
// socket goes back to the main thread, which owns the connection.
import type { FromHandlerThread, ToHandlerThread } from "./handler-pool.js";
import type { WebSocketData } from "./websocket.js";
import { toPayload } from "./websocket.js";

/** A connection as a worker sees it: its id and upgrade URL, and what it may do. */
export class WorkerSocket {
  constructor(readonly id: number, readonly url: string, private readonly post: (m: FromHandlerThread) => void) {}

  send(data: WebSocketData, options: { binary?: boolean } = {}): void {
    const { payload, text } = toPayload(data);
    this.post({ conn: this.id, ws: "send", data: payload, binary: options.binary ?? !text });
  }

  /** To the topic's subscribers but this socket (ws.publish). */
  publish(topic: string, data: WebSocketData, options: { binary?: boolean } = {}): void {
    const { payload, text } = toPayload(data);
    this.post({ conn: this.id, ws: "publish", topic, data: payload, binary: options.binary ?? !text });
  }

  subscribe(topic: string): void {
    this.post({ conn: this.id, ws: "subscribe", topic });
  }

  close(code = 1000, reason = ""): void {
    this.post({ conn: this.id, ws: "close", code, reason });
  }
}

export interface WebSocketHandlers {
  open?: (socket: WorkerSocket) => unknown;
  message?: (data: Buffer, isBinary: boolean, socket: WorkerSocket) => unknown;
  close?: (socket: WorkerSocket, code: number) => unknown;
}

/** Runs one WebSocket event with the module's handlers; resolves when the handler's promise (if any) settles. */
export async function runWebSocketEvent(handlers: WebSocketHandlers, sockets: Map<number, WorkerSocket>,
  m: Extract<ToHandlerThread, { ws: string }>, post: (m: FromHandlerThread) => void): Promise<void> {
  if (m.ws === "open") {
    const socket = new WorkerSocket(m.conn, m.url, post);
    sockets.set(m.conn, socket);
    await handlers.open?.(socket);
    return;
  }
  const socket = sockets.get(m.conn);
  if (!socket) return;
  if (m.ws === "message") await handlers.message?.(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength), m.binary, socket);
  else {
    sockets.delete(m.conn);
    await handlers.close?.(socket, m.code);
  }
}
