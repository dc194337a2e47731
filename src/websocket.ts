// The JS side of WebSocket (protocol "ws"), shaped like the ws package: the module does
// the handshake, framing, masking, UTF-8 checks, ping/pong and the close handshake, and
// tells JS about opens, messages and closes through its outbox (assembly/outbox.ts).
// Messages from JS go back as EV_WS_SEND pieces, which the module frames.
import { EV, OUT } from "../host/door.js";
import { IncomingRequest } from "./http.js";
import { piece, slices } from "./pieces.js";
import { typedEmitter } from "./typed-events.js";

const OPCODE = { TEXT: 1, BINARY: 2, PING: 9, PONG: 10 } as const;
const PIECE_FIRST = 1;
const PIECE_LAST = 2;
/** send() returns false past this much unsent data (the 'drain' event says when to go on). */
const HIGH_WATER = 1 << 20;

type Inject = (op: number, conn: number, bytes: Uint8Array) => void;
export type WebSocketData = string | Uint8Array | ArrayBuffer;

/** The pieces of one message (assembly/ws/js.ts): flags, opcode, message length, then a slice of the payload. */
export function messagePieces(opcode: number, payload: Buffer): Buffer[] {
  return slices(payload).map((part, i, all) =>
    piece([(i === 0 ? PIECE_FIRST : 0) | (i === all.length - 1 ? PIECE_LAST : 0), opcode, payload.length], part));
}

export function toPayload(data: WebSocketData): { payload: Buffer; text: boolean } {
  if (typeof data === "string") return { payload: Buffer.from(data, "utf8"), text: true };
  if (data instanceof ArrayBuffer) return { payload: Buffer.from(data), text: false };
  return { payload: Buffer.from(data.buffer, data.byteOffset, data.byteLength), text: false };
}

/** The events of a WebSocket, as the `ws` package names them. */
export interface WebSocketEvents {
  /** A whole message: `data` is its payload, `isBinary` false for a text message (valid UTF-8, checked by the module). */
  message: (data: Buffer, isBinary: boolean) => void;
  /**
   * The connection is closed: `code` is the close code (1005 if the peer sent none, 1006
   * if the connection dropped without a close handshake).
   */
  close: (code: number, reason: Buffer) => void;
  /** send() returned false earlier, and what was buffered has gone out: send more. */
  drain: () => void;
  /** An error on this socket. The module reports protocol errors as close codes, so today this does not fire. */
  error: (err: Error) => void;
}

/**
 * One open WebSocket (protocol "ws"), shaped like the `ws` package's: the module has done
 * the handshake and does the framing; its events are {@link WebSocketEvents}.
 */
export class WebSocket extends typedEmitter<WebSocketEvents>() {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readyState: number = WebSocket.OPEN;
  /** The subprotocol chosen in the handshake ("" if none). */
  protocol = "";
  private unsentReported = 0;
  private sentSinceReport = 0;
  private full = false;

  /** @internal the server makes one per opened connection. */
  constructor(private readonly conn: number, private readonly inject: Inject) {
    super();
  }

  /**
   * Bytes handed to send() that have not left yet: what the module last reported unsent,
   * plus what was sent since (an upper bound until the next report, which every send brings).
   */
  get bufferedAmount(): number {
    return this.unsentReported + this.sentSinceReport;
  }

  /** Sends a message: a string as text, bytes as binary (or as `options.binary` says). Returns false past 1 MiB buffered. */
  send(data: WebSocketData, options: { binary?: boolean } | ((err?: Error) => void) = {}, cb?: (err?: Error) => void): boolean {
    const done = typeof options === "function" ? options : cb;
    if (this.readyState !== WebSocket.OPEN) {
      done?.(new Error("wasm-reactor: WebSocket is not open"));
      return false;
    }
    const { payload, text } = toPayload(data);
    const binary = typeof options === "object" && options.binary !== undefined ? options.binary : !text;
    for (const piece of messagePieces(binary ? OPCODE.BINARY : OPCODE.TEXT, payload)) this.inject(EV.WS_SEND, this.conn, piece);
    this.sentSinceReport += payload.length;
    done?.();
    this.full ||= this.bufferedAmount > HIGH_WATER;
    return !this.full;
  }

  ping(data: WebSocketData = ""): void {
    this.control(OPCODE.PING, data);
  }

  pong(data: WebSocketData = ""): void {
    this.control(OPCODE.PONG, data);
  }

  private control(opcode: number, data: WebSocketData): void {
    if (this.readyState !== WebSocket.OPEN) return;
    const { payload } = toPayload(data);
    if (payload.length > 125) throw new RangeError("wasm-reactor: a control frame's payload is at most 125 bytes");
    this.inject(EV.WS_SEND, this.conn, messagePieces(opcode, payload)[0]);
  }

  /** Starts the close handshake with `code` and `reason` (at most 123 bytes). */
  close(code = 1000, reason = ""): void {
    if (this.readyState !== WebSocket.OPEN) return;
    if (!(code === 1000 || (code >= 3000 && code <= 4999))) {
      throw new RangeError(`wasm-reactor: close code must be 1000 or 3000-4999, got ${code}`);
    }
    const text = Buffer.from(reason, "utf8");
    if (text.length > 123) throw new RangeError("wasm-reactor: a close reason is at most 123 bytes");
    const bytes = Buffer.alloc(4 + text.length);
    bytes.writeUInt32LE(code, 0);
    text.copy(bytes, 4);
    this.readyState = WebSocket.CLOSING;
    this.inject(EV.WS_CLOSE, this.conn, bytes);
  }

  /** @internal the module reported how much is still unsent after a send completed. */
  reportUnsent(unsent: number): void {
    this.unsentReported = unsent;
    this.sentSinceReport = 0;
    if (this.full && this.bufferedAmount <= HIGH_WATER / 4) {
      this.full = false;
      this.emit("drain");
    }
  }

  /** @internal the connection is gone. */
  closed(code: number): void {
    this.readyState = WebSocket.CLOSED;
    this.emit("close", code, Buffer.alloc(0));
  }
}

/** The open WebSockets of one server, fed from the outbox of each batch. */
export class WebSocketRegistry {
  private readonly sockets = new Map<number, WebSocket>();

  constructor(private readonly inject: Inject, private readonly onConnection: (ws: WebSocket, req: IncomingRequest) => void,
    private readonly subprotocols: () => string[] | undefined) {}

  get size(): number {
    return this.sockets.size;
  }

  /** One WebSocket entry of the module's outbox (host/door.ts forEachOutboxEntry). */
  entry(kind: number, conn: number, payload: Buffer): void {
    if (kind === OUT.WS_OPEN) {
      const ws = new WebSocket(conn, this.inject);
      const req = new IncomingRequest(payload);
      ws.protocol = chosenSubprotocol(req.headers["sec-websocket-protocol"], this.subprotocols());
      this.sockets.set(conn, ws);
      this.onConnection(ws, req);
      return;
    }
    const ws = this.sockets.get(conn);
    if (!ws) return;
    if (kind === OUT.WS_TEXT || kind === OUT.WS_BINARY) ws.emit("message", Buffer.from(payload), kind === OUT.WS_BINARY);
    else if (kind === OUT.WS_BUFFERED) ws.reportUnsent(payload.readUInt32LE(0));
    else if (kind === OUT.WS_CLOSED) {
      this.sockets.delete(conn);
      ws.closed(payload.readUInt32LE(0));
    }
  }

  /** Frames once in the module, sent to every open WebSocket. */
  broadcast(data: WebSocketData, binary?: boolean): void {
    const { payload, text } = toPayload(data);
    for (const piece of messagePieces(binary ?? !text ? OPCODE.BINARY : OPCODE.TEXT, payload)) this.inject(EV.WS_BROADCAST, 0, piece);
  }

  /** A trap ended the instance: its WebSockets are gone. */
  dropAll(): void {
    for (const ws of this.sockets.values()) ws.closed(1006);
    this.sockets.clear();
  }
}

/** The module's choice (assembly/ws/handshake.ts), made again here: the client's first offer the server speaks. */
function chosenSubprotocol(offer: string | string[] | undefined, spoken: string[] | undefined): string {
  if (!offer || !spoken?.length) return "";
  const offered = (Array.isArray(offer) ? offer.join(",") : offer).split(",").map((p) => p.trim());
  return offered.find((p) => spoken.includes(p)) ?? "";
}
