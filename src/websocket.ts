// The JS side of WebSocket (protocol "ws"), shaped like the ws package: the module does
// the handshake, framing, masking, UTF-8 checks, ping/pong and the close handshake, and
// tells JS about opens, messages and closes through its outbox (assembly/outbox.ts).
// Messages from JS go back as EV_WS_SEND pieces, which the module frames.
import { EV, OUT } from "../host/door.js";
import { localConn } from "../host/threads.js";
import { IncomingRequest } from "./http.js";
import { ServerResponse } from "./http-response.js";
import { RequestSocket } from "./http-socket.js";
import type { ConnectionPeers } from "./peers.js";
import { messagePieces, piece, WS_OPCODE } from "./pieces.js";
import { SendCallbacks } from "./websocket-sends.js";
import { subscription, topicBytes, Topics } from "./websocket-topics.js";
import { refusalCode, runVerifyClient, type Verdict, type VerifyClient } from "./websocket-verify.js";
import { typedEmitter } from "./typed-events.js";

const OPCODE = WS_OPCODE;
/** send() returns false past this much unsent data (the 'drain' event says when to go on). */
const HIGH_WATER = 1 << 20;

type Inject = (op: number, conn: number, bytes: Uint8Array) => void;
export type WebSocketData = string | Uint8Array | ArrayBuffer;

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
   * if the connection dropped without a close handshake), `reason` the peer's reason.
   */
  close: (code: number, reason: Buffer) => void;
  /** send() returned false earlier, and what was buffered has gone out: send more. */
  drain: () => void;
  /**
   * The client broke the protocol (a malformed frame, invalid UTF-8, a message over
   * maxPayload): the module has closed with 1002, 1007 or 1009 and 'close' follows.
   * `err.code` names the kind, as ws's do. Emitted only if there is a listener.
   */
  error: (err: Error & { code: string }) => void;
  /** A ping from the client; the module has already answered it with a pong. */
  ping: (data: Buffer) => void;
  /** A pong from the client: the answer to ping() (the heartbeat pattern), or unsolicited. */
  pong: (data: Buffer) => void;
}

/** Called once a message's bytes went to the socket, or with an error if they never will. */
export type SendCallback = (err?: Error) => void;

/** Close codes an endpoint may send (RFC 6455 §7.4.1, IANA's 1012–1014, and the 3000–4999 of libraries and applications). */
export function isSendableCloseCode(code: number): boolean {
  return Number.isInteger(code) && ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999));
}

/** What the module's close code says when it closed because the client broke the protocol. */
const PEER_ERRORS: Record<number, [string, string]> = {
  1002: ["WS_ERR_PROTOCOL", "the client broke the WebSocket protocol (RFC 6455)"],
  1007: ["WS_ERR_INVALID_UTF8", "the client sent invalid UTF-8 in a text message or close reason"],
  1009: ["WS_ERR_UNSUPPORTED_MESSAGE_LENGTH", "the client sent a message over maxPayload"],
};
/** In OUT_WS_CLOSED's code word (assembly/ws/js.ts). */
const CLOSED_PEER_ERROR = 1 << 16;

/**
 * One open WebSocket (protocol "ws"), shaped like the `ws` package's: the module has done
 * the handshake and does the framing; its events are {@link WebSocketEvents}.
 */
export class WebSocket extends typedEmitter<WebSocketEvents>() {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  readyState: number = WebSocket.OPEN;
  /** The subprotocol chosen in the handshake ("" if none). */
  protocol = "";
  private unsentReported = 0;
  private sentSinceReport = 0;
  private full = false;
  private readonly sends = new SendCallbacks();
  private readonly topics = new Set<string>();

  /** @internal the server's id of the connection (the worker pool's key). */
  get connectionId(): number {
    return this.conn;
  }

  /** @internal the server makes one per opened connection. */
  constructor(private readonly conn: number, private readonly inject: Inject, private readonly serverTopics: Topics) {
    super();
  }

  /**
   * Subscribes to a topic: server.publish(topic, …) (and other sockets' publish) reach
   * this socket, sent by the module without JS per subscriber. Ends with the connection.
   */
  subscribe(topic: string): void {
    const bytes = topicBytes(topic);
    if (this.readyState !== WebSocket.OPEN || this.topics.has(topic)) return;
    this.topics.add(topic);
    this.serverTopics.add(topic);
    this.inject(EV.WS_SUBSCRIBE, this.conn, subscription(true, bytes));
  }

  unsubscribe(topic: string): void {
    const bytes = topicBytes(topic);
    if (!this.topics.delete(topic)) return;
    this.serverTopics.remove(topic);
    if (this.readyState === WebSocket.OPEN) this.inject(EV.WS_SUBSCRIBE, this.conn, subscription(false, bytes));
  }

  isSubscribed(topic: string): boolean {
    return this.topics.has(topic);
  }

  /** The topics this socket subscribes to. */
  getTopics(): string[] {
    return [...this.topics];
  }

  /** Publishes to a topic's subscribers but this socket (a chat message to the others in the room), on every server of the relay. */
  publish(topic: string, data: WebSocketData, options: { binary?: boolean } = {}): void {
    const { payload, text } = toPayload(data);
    this.serverTopics.publish(topic, payload, options.binary ?? !text, this.conn);
  }

  /**
   * Bytes handed to send() that have not left yet: what the module last reported unsent,
   * plus what was sent since (an upper bound until the next report, which every send brings).
   */
  get bufferedAmount(): number {
    return this.unsentReported + this.sentSinceReport;
  }

  /**
   * Sends a message: a string as text, bytes as binary (or as `options.binary` says).
   * Returns false past 1 MiB buffered ('drain' says when to go on). The callback runs
   * once the message's bytes went to the socket, or with an error if they never will.
   */
  send(data: WebSocketData, options: { binary?: boolean } | SendCallback = {}, cb?: SendCallback): boolean {
    const done = typeof options === "function" ? options : cb;
    if (this.readyState !== WebSocket.OPEN) {
      if (done) queueMicrotask(() => done(notOpen(this.readyState)));
      return false;
    }
    const { payload, text } = toPayload(data);
    const binary = typeof options === "object" && options.binary !== undefined ? options.binary : !text;
    for (const piece of messagePieces(binary ? OPCODE.BINARY : OPCODE.TEXT, payload)) this.inject(EV.WS_SEND, this.conn, piece);
    this.sends.handed(payload.length, done);
    this.sentSinceReport += payload.length;
    this.full ||= this.bufferedAmount > HIGH_WATER;
    return !this.full;
  }

  /** Sends a ping (at most 125 bytes); the client's answer is the 'pong' event. `mask` is ignored: a server never masks. */
  ping(data?: WebSocketData | SendCallback, mask?: boolean | SendCallback, cb?: SendCallback): void {
    this.control(OPCODE.PING, data, mask, cb);
  }

  /** Sends an unsolicited pong (the module answers pings by itself). */
  pong(data?: WebSocketData | SendCallback, mask?: boolean | SendCallback, cb?: SendCallback): void {
    this.control(OPCODE.PONG, data, mask, cb);
  }

  private control(opcode: number, data: WebSocketData | SendCallback | undefined, mask: boolean | SendCallback | undefined,
    cb: SendCallback | undefined): void {
    const done = [data, mask, cb].find((a): a is SendCallback => typeof a === "function");
    const { payload } = toPayload(typeof data === "function" || data === undefined ? "" : data);
    if (payload.length > 125) throw new RangeError("wasm-reactor: a control frame's payload is at most 125 bytes");
    if (this.readyState !== WebSocket.OPEN) {
      if (done) queueMicrotask(() => done(notOpen(this.readyState)));
      return;
    }
    this.inject(EV.WS_SEND, this.conn, messagePieces(opcode, payload)[0]);
    this.sends.handed(payload.length, done);
  }

  /**
   * Starts the close handshake with `code` (1000–1003, 1007–1014, 3000–4999) and a
   * `reason` of at most 123 bytes; the connection closes once the client answers.
   */
  close(code = 1000, reason: string | Buffer = ""): void {
    if (this.readyState !== WebSocket.OPEN) return;
    if (!isSendableCloseCode(code)) {
      throw new RangeError(`wasm-reactor: a close code must be 1000-1003, 1007-1014 or 3000-4999, got ${code}`);
    }
    const text = Buffer.from(reason);
    if (text.length > 123) throw new RangeError("wasm-reactor: a close reason is at most 123 bytes");
    this.closeConnection(code, text);
  }

  /** Drops the connection at once, without the close handshake: what is unsent is lost ('close' reports 1006). */
  terminate(): void {
    if (this.readyState === WebSocket.CLOSED) return;
    this.closeConnection(0, Buffer.alloc(0));
  }

  private closeConnection(code: number, reason: Buffer): void {
    const bytes = Buffer.alloc(4 + reason.length);
    bytes.writeUInt32LE(code, 0);
    reason.copy(bytes, 4);
    this.readyState = WebSocket.CLOSING;
    this.inject(EV.WS_CLOSE, this.conn, bytes);
  }

  /** @internal a message from the client. */
  received(payload: Buffer, binary: boolean): void {
    this.emit("message", Buffer.from(payload), binary);
  }

  /** @internal the module reported how much is still unsent after a send completed, and how much of JS's it has taken. */
  reportUnsent(unsent: number, taken: number): void {
    this.unsentReported = unsent;
    this.sentSinceReport = 0;
    this.sends.report(unsent, taken);
    if (this.full && this.bufferedAmount <= HIGH_WATER / 4) {
      this.full = false;
      this.emit("drain");
    }
  }

  /** @internal the module dropped a message (onBackpressure "drop"): its send callback fails. */
  dropped(end: number): void {
    this.sends.dropped(end);
  }

  /** @internal the connection is gone; `word` is the module's code word. */
  closed(word: number, reason: Buffer): void {
    const code = word & 0xffff;
    this.readyState = WebSocket.CLOSED;
    const peerError = PEER_ERRORS[code];
    if ((word & CLOSED_PEER_ERROR) !== 0 && peerError && this.listenerCount("error") > 0) {
      this.emit("error", Object.assign(new Error(`wasm-reactor: ${peerError[1]} (closed with ${code})`), { code: peerError[0] }));
    }
    this.sends.fail(new Error(`wasm-reactor: the WebSocket closed (${code}) before the data was sent`));
    for (const topic of this.topics) this.serverTopics.remove(topic); // the module dropped them with the connection
    this.topics.clear();
    this.emit("close", code, Buffer.from(reason));
  }
}

function notOpen(state: number): Error {
  return new Error(`wasm-reactor: WebSocket is not open: readyState ${state} (${["CONNECTING", "OPEN", "CLOSING", "CLOSED"][state]})`);
}

/** What a server tells its WebSockets: where to send, whom to call, what it speaks. */
export interface WebSocketHooks {
  inject: Inject;
  onConnection: (ws: WebSocket, req: IncomingRequest) => void;
  subprotocols: () => string[] | undefined;
  peers: ConnectionPeers;
  /** Decides upgrades before their 101 (the module asks only when the option is set). */
  verifyClient?: VerifyClient;
  /** verifyClient threw or rejected (the upgrade was refused with a 500). */
  onError: (err: unknown) => void;
  /** The module began dropping publishes: `queuedBytes` waited to be fanned out. */
  onPublishDropped?: (queuedBytes: number) => void;
}

const P_ABORT_END = 32 | 2; // respond.ts: close the connection now

/** The open WebSockets of one server, fed from the outbox of each batch. */
export class WebSocketRegistry {
  private readonly sockets = new Map<number, WebSocket>();
  /** Upgrades verifyClient has (or has accepted, until the module opens them). */
  private readonly verifyingRequests = new Map<number, IncomingRequest>();
  /** The open sockets, as ws's server.clients. */
  readonly clients = new Set<WebSocket>();
  /** Subscribers by topic (subscriptions made through JS), and publishes. */
  readonly topics: Topics;

  constructor(private readonly hooks: WebSocketHooks) {
    this.topics = new Topics(hooks.inject);
  }

  get size(): number {
    return this.sockets.size;
  }

  /** The open WebSocket of a connection id, if it is still open. */
  socket(conn: number): WebSocket | undefined {
    return this.sockets.get(conn);
  }

  /** Upgrades waiting for verifyClient's verdict. */
  get verifying(): number {
    return this.verifyingRequests.size;
  }

  /** One WebSocket entry of the module's outbox (host/door.ts forEachOutboxEntry). */
  entry(kind: number, conn: number, payload: Buffer): void {
    if (kind === OUT.WS_OPEN) return this.opened(conn, payload);
    if (kind === OUT.WS_UPGRADE) return this.verify(conn, payload);
    if (kind === OUT.WS_PUBLISH_DROPPED) return this.hooks.onPublishDropped?.(payload.readUInt32LE(0));
    const ws = this.sockets.get(conn);
    if (!ws) return this.verifyAbandoned(kind, conn);
    if (kind === OUT.WS_TEXT || kind === OUT.WS_BINARY) ws.received(payload, kind === OUT.WS_BINARY);
    else if (kind === OUT.WS_BUFFERED) ws.reportUnsent(payload.readUInt32LE(0), payload.readUInt32LE(4));
    else if (kind === OUT.WS_DROPPED) ws.dropped(payload.readUInt32LE(0));
    else if (kind === OUT.WS_PING) ws.emit("ping", Buffer.from(payload));
    else if (kind === OUT.WS_PONG) ws.emit("pong", Buffer.from(payload));
    else if (kind === OUT.WS_CLOSED) {
      this.forget(conn, ws);
      ws.closed(payload.readUInt32LE(0), payload.subarray(4));
    }
  }

  /** The upgrade request, with a socket that (until the WebSocket exists) aborts the connection. */
  private upgradeRequest(conn: number, descriptor: Buffer): IncomingRequest {
    const abort = () => {
      const ws = this.sockets.get(conn);
      if (ws) ws.terminate();
      else this.hooks.inject(EV.RESPONSE, conn, piece([P_ABORT_END, 0, 0]));
    };
    return new IncomingRequest(descriptor, new RequestSocket(this.hooks.peers.addresses(conn), abort));
  }

  /** The module opened a WebSocket: with verifyClient, on the request it was verified on (the payload is empty). */
  private opened(conn: number, descriptor: Buffer): void {
    const req = descriptor.length === 0 ? this.verifyingRequests.get(conn) : this.upgradeRequest(conn, descriptor);
    this.verifyingRequests.delete(conn);
    if (!req) return;
    const ws = new WebSocket(conn, this.hooks.inject, this.topics);
    ws.once("close", () => req.socket?.closed());
    ws.protocol = chosenSubprotocol(req.headers["sec-websocket-protocol"], this.hooks.subprotocols());
    this.sockets.set(conn, ws);
    this.clients.add(ws);
    this.hooks.onConnection(ws, req);
  }

  /** An upgrade waits for verifyClient's verdict. */
  private verify(conn: number, descriptor: Buffer): void {
    const req = this.upgradeRequest(conn, descriptor);
    this.verifyingRequests.set(conn, req);
    const verifyClient = this.hooks.verifyClient ?? (() => true);
    runVerifyClient(verifyClient, req, (verdict) => this.decided(conn, req, verdict), this.hooks.onError);
  }

  private decided(conn: number, req: IncomingRequest, verdict: Verdict): void {
    if (this.verifyingRequests.get(conn) !== req) return; // the client left (or a timeout answered) meanwhile
    if (verdict.accept) return this.hooks.inject(EV.WS_ACCEPT, conn, new Uint8Array(0));
    this.verifyingRequests.delete(conn);
    const res = new ServerResponse({ send: (p) => this.hooks.inject(EV.RESPONSE, conn, p), flowControlled: false, misuse: this.hooks.onError }, req);
    const fields: Record<string, string | string[]> = { "Content-Type": "text/plain; charset=utf-8" };
    for (const [name, value] of Object.entries(verdict.headers)) if (value !== undefined) fields[name] = typeof value === "number" ? String(value) : value;
    res.writeHead(refusalCode(verdict.code), fields);
    res.end(verdict.message);
    req.socket?.closed();
  }

  /** An upgrade verifyClient had ended without a WebSocket (the module's OUT_WS_CLOSED for it). */
  private verifyAbandoned(kind: number, conn: number): void {
    const req = this.verifyingRequests.get(conn);
    if (kind !== OUT.WS_CLOSED || !req) return;
    this.verifyingRequests.delete(conn);
    req.socket?.closed(true);
  }

  private forget(conn: number, ws: WebSocket): void {
    this.sockets.delete(conn);
    this.clients.delete(ws);
  }

  /** Frames once in the module, sent to every open WebSocket. */
  broadcast(data: WebSocketData, binary?: boolean): void {
    const { payload, text } = toPayload(data);
    for (const piece of messagePieces(binary ?? !text ? OPCODE.BINARY : OPCODE.TEXT, payload)) this.hooks.inject(EV.WS_BROADCAST, 0, piece);
  }

  /** Frames once in the module, sent to the topic's subscribers (and through the relay, if any, to other servers'). */
  publish(topic: string, data: WebSocketData, binary?: boolean): void {
    const { payload, text } = toPayload(data);
    this.topics.publish(topic, payload, binary ?? !text);
  }

  /** A trap ended the instance (with threads, the one of that thread): its WebSockets are gone. */
  dropAll(thread?: number): void {
    const ofIt = (conn: number) => thread === undefined || localConn(conn)[0] === thread;
    for (const [conn, req] of [...this.verifyingRequests]) {
      if (!ofIt(conn)) continue;
      this.verifyingRequests.delete(conn);
      req.socket?.closed(true);
    }
    for (const [conn, ws] of [...this.sockets].filter(([conn]) => ofIt(conn))) {
      this.forget(conn, ws);
      ws.closed(1006, Buffer.alloc(0));
    }
  }
}

/** The module's choice (assembly/ws/handshake.ts), made again here: the client's first offer the server speaks. */
function chosenSubprotocol(offer: string | string[] | undefined, spoken: string[] | undefined): string {
  if (!offer || !spoken?.length) return "";
  const offered = (Array.isArray(offer) ? offer.join(",") : offer).split(",").map((p) => p.trim());
  return offered.find((p) => spoken.includes(p)) ?? "";
}
