// The JS side of HTTP, shaped like node:http: the module parses and frames; requests no
// static route answers come here (outbox entries, assembly/http/stream.ts), their bodies
// streamed, and the 'request' listeners answer with a ServerResponse whose pieces go back
// as EV_RESPONSE. HttpExchanges follows every connection's current exchange; the
// worker pool, whose requests arrive whole, uses handleRequest alone.
import { EventEmitter } from "node:events";
import { EV, OUT, SLOT_MASK } from "../host/door.js";
import { piece } from "./pieces.js";
import { IncomingRequest } from "./http-request.js";
import { ServerResponse, type ResponseSink } from "./http-response.js";
import { RequestSocket } from "./http-socket.js";
import type { ConnectionPeers } from "./peers.js";

export { IncomingRequest, type Headers, type IncomingRequestEvents } from "./http-request.js";
export { ServerResponse, type ServerResponseEvents, type WriteCallback } from "./http-response.js";
export { RequestSocket } from "./http-socket.js";

const P_ABORT_END = 32 | 2; // respond.ts: close the connection now

/** A request the module hands to JS (an HTTP_REQUEST outbox entry). */
export interface RequestHandoff {
  conn: number;
  /** The request as the module collected it (assembly/http/request.ts), copied out of its memory. */
  descriptor: Buffer;
}

export type RequestListener = (req: IncomingRequest, res: ServerResponse) => unknown;

/**
 * A listener written for node:http: an Express app, Fastify's serverFactory handler, a
 * `(req: http.IncomingMessage, res: http.ServerResponse) => …` of your own. It is taken
 * as it is; at run time it gets an {@link IncomingRequest} and a {@link ServerResponse},
 * which carry the node:http surface such code uses (streams, headers, socket addresses).
 */
export type NodeRequestListener = (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse, ...rest: any[]) => unknown;
type Inject = (op: number, conn: number, bytes: Uint8Array) => void;

/** What a server tells its exchanges: where to send, whom to call, its limits and addresses. */
export interface ExchangeHooks {
  inject: Inject;
  listeners: () => RequestListener[];
  /** A listener threw or rejected (answered with a 500), or misused its response. */
  onError: (err: unknown) => void;
  /** The connections' addresses, for req.socket. */
  peers: ConnectionPeers;
  /** The limit of req.buffer()/text()/json(). */
  maxBodySize: number;
  /** Every response handed out, for the test kit's bookkeeping. */
  onResponse?: (res: ServerResponse) => void;
}

/** What JS knows of one connection: its socket and its current exchange. */
interface Connection {
  id: number;
  socket?: RequestSocket;
  req?: IncomingRequest;
  res?: ServerResponse;
  /** How its responses reach the module, and its requests report reads: made once per connection. */
  sink?: ResponseSink;
  readBody?: (bytes: number) => void;
}

/**
 * The HTTP exchanges of one server, fed from the outbox of each batch: requests for the
 * listeners, their streamed bodies, the module's flow reports, and connections that ended.
 */
export class HttpExchanges {
  /** By slot: a connection id's low bits (ids of one slot replace each other). */
  private readonly conns: (Connection | undefined)[] = [];

  constructor(private readonly hooks: ExchangeHooks) {}

  /** One HTTP entry of the module's outbox; false for an entry of another kind. */
  entry(kind: number, conn: number, payload: Buffer): boolean {
    const c = this.conns[conn & SLOT_MASK];
    if (kind === OUT.HTTP_REQUEST) this.request(c?.id === conn ? c : this.newConnection(conn), payload);
    else if (c?.id !== conn) return kind === OUT.HTTP_BODY || kind === OUT.HTTP_FLOW || kind === OUT.HTTP_CLOSED;
    else if (kind === OUT.HTTP_BODY) this.body(c, payload);
    else if (kind === OUT.HTTP_FLOW) c.res?.flow(payload.readUInt32LE(0), payload.readUInt32LE(4));
    else if (kind === OUT.HTTP_CLOSED) this.closed(c);
    else return false;
    return true;
  }

  /** A connection's first request. */
  private newConnection(conn: number): Connection {
    const c: Connection = { id: conn };
    this.conns[conn & SLOT_MASK] = c;
    return c;
  }

  private request(c: Connection, descriptor: Buffer): void {
    c.res?.handedOver(); // pipelined: the previous answer is wholly in the module, ahead of this one
    if (!c.socket) {
      // Destroying the socket (or res) closes the connection in the module, and ends the exchange here.
      c.socket = new RequestSocket(this.hooks.peers.addresses(c.id), () => {
        this.hooks.inject(EV.RESPONSE, c.id, piece([P_ABORT_END, 0, 0]));
        this.closed(c);
      });
      c.sink = { send: (p) => this.hooks.inject(EV.RESPONSE, c.id, p), flowControlled: true, misuse: this.hooks.onError,
        finished: (res) => this.finished(c, res) };
      c.readBody = (n) => this.readBody(c.id, n);
    }
    const req = new IncomingRequest(descriptor, c.socket, c.readBody, this.hooks.maxBodySize);
    const res = answer(this.hooks.listeners(), req, c.sink!, this.hooks.onError);
    c.req = req;
    c.res = res;
    this.hooks.onResponse?.(res);
  }

  /**
   * Once an exchange is over, the connection forgets it, so an idle keep-alive connection
   * holds no request (nor body a handler left unread): when the response has finished and
   * the body is complete, whichever comes last.
   */
  private finished(c: Connection, res: ServerResponse): void {
    if (c.res !== res) return;
    c.res = undefined;
    if (c.req?.complete) c.req = undefined;
  }

  private body(c: Connection, piece: Buffer): void {
    const req = c.req;
    if (!req) return;
    req.deliver(piece);
    if (piece.length === 0 && c.res === undefined) c.req = undefined;
  }

  private readBody(conn: number, bytes: number): void {
    const word = Buffer.allocUnsafe(4);
    word.writeUInt32LE(bytes, 0);
    this.hooks.inject(EV.BODY_READ, conn, word);
  }

  /** The module gave up on the exchange (the client left, a timeout, a malformed body). */
  private closed(c: Connection): void {
    if (this.conns[c.id & SLOT_MASK] === c) this.conns[c.id & SLOT_MASK] = undefined;
    c.req?.abort();
    c.res?.closed();
    c.socket?.closed(true);
  }
}

/**
 * Runs the request listeners for one request. A listener that throws (or rejects) gets
 * a 500 (or the status of an error that carries one, as http-errors' do) if nothing
 * was sent yet; otherwise the connection is closed, so the client cannot mistake a cut
 * response for a whole one.
 */
function answer(listeners: RequestListener[], req: IncomingRequest, sink: ResponseSink, onError: (err: unknown) => void): ServerResponse {
  const res = new ServerResponse(sink, req);
  const fail = (err: unknown) => {
    if (res.destroyed && !res.writableEnded) return; // the exchange is already over
    onError(err);
    if (res.writableEnded || res.destroyed) return;
    if (res.headSent) {
      res.destroy();
      return;
    }
    res.headersSent = false; // writeHead() fixed the fields, but nothing went out: the 500 replaces them
    const status = (err as { status?: unknown })?.status;
    const code = typeof status === "number" && status >= 400 && status <= 599 ? status : 500;
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.statusCode = code;
    res.statusMessage = "";
    res.setHeader("Content-Type", "text/plain; charset=utf-8");
    res.end(code === 500 ? "Internal Server Error\n" : `${(err as Error).message.replace(/^wasm-reactor: /, "")}\n`);
  };
  // What a listener of req or res throws (on 'data', 'end', 'finish'…, which streams emit
  // from later ticks) is the handler's failure, not the process's: each emits through a
  // guard (an own property, so a framework's prototype swap keeps it).
  const guarded = req as unknown as Guarded;
  guarded[FAIL] = (res as unknown as Guarded)[FAIL] = fail;
  req.emit = res.emit = guardedEmit;
  for (const listener of listeners) {
    try {
      const result = listener(req, res);
      if (result && typeof (result as Promise<void>).then === "function") (result as Promise<void>).then(undefined, fail);
    } catch (err) {
      fail(err);
    }
  }
  return res;
}

const FAIL = Symbol("wasm-reactor: the exchange's failure");
type Guarded = EventEmitter & { [FAIL]: (err: unknown) => void };
const emit = EventEmitter.prototype.emit;

function guardedEmit(this: Guarded, event: string | symbol, ...args: unknown[]): boolean {
  try {
    return emit.call(this, event, ...args);
  } catch (err) {
    this[FAIL](err);
    return true;
  }
}

/**
 * The worker pool's way to give up on a request whose handler is gone (its worker
 * stopped): a 500 if no piece of the answer went out yet, else the connection closes, so
 * the client cannot mistake a cut answer for a whole one.
 */
export function abandonRequest(handoff: RequestHandoff, answerStarted: boolean, send: (conn: number, piece: Buffer) => void, why: Error): void {
  if (answerStarted) send(handoff.conn, piece([P_ABORT_END, 0, 0]));
  else handleRequest([() => { throw why; }], handoff, send, () => {});
}

/** The worker pool's way: one request, arrived whole, answered through `send`. */
export function handleRequest(listeners: RequestListener[], handoff: RequestHandoff, send: (conn: number, piece: Buffer) => void,
  onError: (err: unknown) => void): ServerResponse {
  const req = new IncomingRequest(handoff.descriptor);
  return answer(listeners, req, { send: (p) => send(handoff.conn, p), flowControlled: false, misuse: onError }, onError);
}

