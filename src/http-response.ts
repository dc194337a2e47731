// The response side of the JS HTTP layer, shaped like node:http's ServerResponse: a
// writable stream (like node's, a Stream with write/end/'drain'/'finish'/'close', which
// pipe() and pipeline() take) whose bytes go to the module in pieces
// (assembly/http/respond.ts). The module writes the status line, Date and framing.
//
// Backpressure: the module reports, after each piece and each completed send, how many
// piece bytes it consumed and how many are unsent (assembly/http/stream.ts). Pieces wait
// here, in JS memory, while more than HIGH_WATER bytes are in the module or unsent, so
// module memory stays bounded whatever a handler writes; write() returns false past the
// mark and 'drain' comes once the socket took the bytes.
import { Stream } from "node:stream";
import { keepMethods } from "./own-methods.js";
import { piece, PIECE_BYTES } from "./pieces.js";
import type { Headers, IncomingRequest } from "./http-request.js";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
// Written by the module for every response; a handler's own would be duplicates.
const MODULE_FIELDS = new Set(["date", "transfer-encoding", "connection", "keep-alive"]);

// Piece flags (assembly/http/respond.ts).
const P_HEAD = 1;
const P_END = 2;
const P_LENGTH = 4;
const P_CLOSE = 8;
const P_REASON = 16;
const P_ABORT = 32;

/** write() returns false once this many bytes are in the module, unsent, or waiting here. */
export const HIGH_WATER = 64 * 1024;

/** A write callback: called once the bytes were handed over, with an error if the connection closed first. */
export type WriteCallback = (err?: Error | null) => void;

/** The events of a response. */
export interface ServerResponseEvents {
  /** write() returned false, and the bytes have since gone to the socket: write more. */
  drain: () => void;
  /** end() was called and the last byte was handed to the socket. */
  finish: () => void;
  /** The exchange is over: after 'finish', or when the client went away first. */
  close: () => void;
  /** A write after end() (only if there is a listener; else it is a requestError). */
  error: (err: Error) => void;
  /** setTimeout's inactivity timeout passed. */
  timeout: () => void;
}

/** How a response reaches the module, and what it reports back. */
export interface ResponseSink {
  /** Hands one piece to the module. */
  send(piece: Buffer): void;
  /** Whether the module reports consumption (streamed requests): else pieces go at once and 'finish' follows end(). */
  flowControlled: boolean;
  /** A misuse the handler made (a write after end), for the server's requestError. */
  misuse(err: Error): void;
  /** The response finished: its last byte was handed to the socket. */
  finished?(res: ServerResponse): void;
}

/**
 * The answer to one request, shaped like node:http's ServerResponse. The module writes
 * the status line, Date and the framing (Content-Length, or chunked after write()).
 */
export class ServerResponse extends Stream {
  statusCode = 200;
  /** The reason phrase; empty: the standard one for the status. */
  statusMessage = "";
  /** writeHead() was called, or the head went out: as with node:http, header fields are fixed from here on. */
  headersSent = false;
  /** @internal the head piece has gone to the module */
  headSent = false;
  /** end() was called (node's old name: `finished`). */
  writableEnded = false;
  finished = false;
  /** The last byte was handed to the socket. */
  writableFinished = false;
  writable = true;
  destroyed = false;
  sendDate = true;
  writableHighWaterMark = HIGH_WATER;
  /** Bytes in the module, unsent, or waiting here to go. */
  writableLength = 0;
  writableNeedDrain = false;
  writableCorked = 0;
  writableObjectMode = false;
  readonly socket: IncomingRequest["socket"];
  readonly connection: IncomingRequest["socket"];
  private readonly fields = new Map<string, [string, string | string[]]>();
  private readonly waiting: Buffer[] = [];
  private waitingBytes = 0;
  private inModule = 0;
  private unsent = 0;
  private sentTotal = 0;
  private consumedTotal = 0;
  private readonly callbacks: [number, WriteCallback][] = [];

  /** @internal */
  constructor(private readonly sink: ResponseSink, readonly req: IncomingRequest) {
    super();
    this.socket = this.connection = req.socket;
    // A framework may swap this object's prototype (Express does, for one whose chain is
    // node's ServerResponse's): the methods users and frameworks call must stay ours.
    keepMethods(this, ServerResponse.prototype);
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    if (this.headersSent) throw Object.assign(new Error("wasm-reactor: cannot set headers after they are sent"), { code: "ERR_HTTP_HEADERS_SENT" });
    if (!TOKEN.test(name)) throw new TypeError(`wasm-reactor: invalid header name ${JSON.stringify(name)}`);
    const v = Array.isArray(value) ? value.map(String) : String(value);
    for (const one of Array.isArray(v) ? v : [v]) {
      if (!FIELD_VALUE.test(one)) throw new TypeError(`wasm-reactor: invalid value for header ${name}: ${JSON.stringify(one)}`);
    }
    this.fields.set(name.toLowerCase(), [name, v as string | string[]]);
    return this;
  }

  /** Adds a value to a field (node:http's appendHeader). */
  appendHeader(name: string, value: string | readonly string[]): this {
    const prev = this.getHeader(name);
    const more = Array.isArray(value) ? value : [value as string];
    return this.setHeader(name, prev === undefined ? more : [...(Array.isArray(prev) ? prev : [String(prev)]), ...more]);
  }

  getHeader(name: string): string | string[] | undefined {
    return this.fields.get(name.toLowerCase())?.[1];
  }

  getHeaders(): Headers {
    return Object.fromEntries([...this.fields].map(([k, [, v]]) => [k, v]));
  }

  getHeaderNames(): string[] {
    return [...this.fields.keys()];
  }

  hasHeader(name: string): boolean {
    return this.fields.has(name.toLowerCase());
  }

  removeHeader(name: string): void {
    if (this.headersSent) throw Object.assign(new Error("wasm-reactor: cannot remove headers after they are sent"), { code: "ERR_HTTP_HEADERS_SENT" });
    this.fields.delete(name.toLowerCase());
  }

  /**
   * Sets the status, reason phrase and header fields, as node:http's: `headers` is an
   * object, or a flat array of names and values (`["X-A", "1", "Set-Cookie", "a=1",
   * "Set-Cookie", "b=2"]`), where a name given twice keeps both values.
   */
  writeHead(status: number, reasonOrHeaders?: string | Headers | string[], headers?: Headers | string[]): this {
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new RangeError(`wasm-reactor: invalid status code ${status}`);
    this.statusCode = status;
    const fields = typeof reasonOrHeaders === "object" ? reasonOrHeaders : headers;
    if (typeof reasonOrHeaders === "string") this.statusMessage = reasonOrHeaders;
    if (!Array.isArray(fields)) {
      for (const [k, v] of Object.entries(fields ?? {})) if (v !== undefined) this.setHeader(k, v);
      this.headersSent = true;
      return this;
    }
    if (fields.length % 2 !== 0) throw new TypeError("wasm-reactor: writeHead's header array holds names and values in turn: its length must be even");
    const given = new Map<string, { name: string; values: string[] }>();
    for (let i = 0; i < fields.length; i += 2) {
      const name = String(fields[i]);
      const entry = given.get(name.toLowerCase()) ?? { name, values: [] };
      entry.values.push(String(fields[i + 1]));
      given.set(name.toLowerCase(), entry);
    }
    for (const { name, values } of given.values()) this.setHeader(name, values.length === 1 ? values[0] : values);
    this.headersSent = true;
    return this;
  }

  /** Sends the status and header fields now, before any body. */
  flushHeaders(): void {
    if (!this.headSent && !this.writableEnded) this.queue(Buffer.alloc(0), false);
  }

  /** The module answers `Expect: 100-continue` itself as soon as the head is read: nothing is left to send. */
  writeContinue(): void {}

  /** As node:http's: an inactivity timeout on the connection for this exchange. */
  setTimeout(ms: number, callback?: () => void): this {
    if (callback) this.once("timeout", callback);
    this.socket?.setTimeout(ms, () => this.emit("timeout"));
    return this;
  }

  /** Sends a piece of the body (the response becomes chunked unless Content-Length was set); false: wait for 'drain'. */
  write(chunk: string | Uint8Array, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean {
    const done = typeof encoding === "function" ? encoding : cb;
    if (this.writableEnded || this.destroyed) {
      this.misuse(this.destroyed ? "write after the connection closed" : "write after end", done);
      return false;
    }
    this.queue(toBuffer(chunk, encoding), false, done);
    if (this.writableLength >= HIGH_WATER) this.writableNeedDrain = true;
    return !this.writableNeedDrain;
  }

  end(chunk?: string | Uint8Array | (() => void), encoding?: BufferEncoding | (() => void), cb?: () => void): this {
    const done = [chunk, encoding, cb].find((x) => typeof x === "function") as (() => void) | undefined;
    if (this.writableEnded || this.destroyed) {
      if (done) process.nextTick(done);
      return this;
    }
    const body = chunk === undefined || typeof chunk === "function" ? Buffer.alloc(0) : toBuffer(chunk, encoding);
    this.writableEnded = this.finished = true;
    this.writable = false;
    if (done) this.once("finish", done);
    this.queue(body, true);
    return this;
  }

  cork(): void {}
  uncork(): void {}

  /** Closes the connection now (node:http's res.destroy()): what is unsent is dropped. */
  destroy(err?: Error): this {
    if (this.destroyed) return this;
    if (this.socket) this.socket.destroy(err);
    else this.sink.send(piece([P_ABORT | P_END, 0, 0]));
    this.closed();
    return this;
  }

  /** @internal the module consumed `bytes` piece bytes; `unsent` bytes wait for the socket. */
  flow(bytes: number, unsent: number): void {
    this.inModule = Math.max(0, this.inModule - bytes);
    this.unsent = unsent;
    this.consumed(bytes, (cb) => cb());
    this.pump();
  }

  /** @internal the exchange is over without a finish: the client went away, or a timeout. */
  closed(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.writable = false;
    const err = Object.assign(new Error("wasm-reactor: the connection closed before the response was sent"), { code: "ERR_STREAM_DESTROYED" });
    for (const [, cb] of this.callbacks.splice(0)) cb(err);
    this.waiting.length = 0;
    this.waitingBytes = 0;
    this.emit("close");
  }

  /** @internal for a response the module does not report on (it ended, or the next request came): done once handed over. */
  handedOver(): void {
    this.inModule = this.unsent = 0;
    this.pump();
  }

  private misuse(what: string, done?: WriteCallback): void {
    const err = Object.assign(new Error(`wasm-reactor: ${what}`), { code: what.includes("end") ? "ERR_STREAM_WRITE_AFTER_END" : "ERR_STREAM_DESTROYED" });
    if (done) process.nextTick(done, err);
    if (this.listenerCount("error") > 0) process.nextTick(() => this.emit("error", err));
    else if (!this.destroyed) this.sink.misuse(err);
  }

  /** Cuts the body into pieces (the first carries the head) and sends what the marks allow. */
  private queue(body: Buffer, end: boolean, done?: WriteCallback): void {
    let offset = 0;
    do {
      const part = body.subarray(offset, offset + PIECE_BYTES);
      offset += PIECE_BYTES;
      const last = end && offset >= body.length;
      const p = this.headSent ? piece([last ? P_END : 0, 0, 0], part) : this.headPiece(last, part);
      this.sentTotal += p.length;
      if (this.waiting.length === 0 && this.hasRoom()) {
        this.hand(p); // the common case: nothing waits, the module has room
      } else {
        this.waiting.push(p);
        this.waitingBytes += p.length;
      }
    } while (offset < body.length);
    if (done) this.callbacks.push([this.sentTotal, done]);
    this.pump();
  }

  private hasRoom(): boolean {
    return !this.sink.flowControlled || this.inModule + this.unsent < HIGH_WATER;
  }

  private hand(p: Buffer): void {
    this.sink.send(p);
    if (this.sink.flowControlled) this.inModule += p.length;
    else this.consumed(p.length, (cb) => process.nextTick(cb)); // without reports, a piece counts as taken once sent
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.hasRoom()) {
      const p = this.waiting.shift()!;
      this.waitingBytes -= p.length;
      this.hand(p);
    }
    this.writableLength = this.waitingBytes + this.inModule + this.unsent;
    if (this.writableNeedDrain && this.writableLength < HIGH_WATER && this.waiting.length === 0) {
      this.writableNeedDrain = false;
      this.emit("drain");
    }
    if (this.writableEnded && !this.writableFinished && !this.destroyed && this.writableLength === 0) {
      this.writableFinished = true;
      this.socket?.touch();
      this.sink.finished?.(this);
      process.nextTick(() => {
        this.emit("finish");
        this.emit("close");
      });
    } else if (this.inModule > 0) {
      this.socket?.touch();
    }
  }

  /** `bytes` more were taken: the write callbacks of what is now all taken are called (through `call`). */
  private consumed(bytes: number, call: (cb: WriteCallback) => void): void {
    this.consumedTotal += bytes;
    while (this.callbacks.length > 0 && this.callbacks[0][0] <= this.consumedTotal) call(this.callbacks.shift()![1]);
  }

  private headPiece(end: boolean, body: Buffer): Buffer {
    this.headSent = this.headersSent = true;
    let flags = P_HEAD | (end ? P_END : 0);
    let text = "";
    if (this.statusMessage !== "") {
      if (/[\r\n]/.test(this.statusMessage)) throw new TypeError(`wasm-reactor: invalid status message ${JSON.stringify(this.statusMessage)}`);
      flags |= P_REASON;
      text = `${this.statusMessage}\r\n`;
    }
    for (const [lower, [name, value]] of this.fields) {
      if (MODULE_FIELDS.has(lower)) {
        if (lower === "connection" && /\bclose\b/i.test(String(value))) flags |= P_CLOSE;
        continue;
      }
      if (lower === "content-length") flags |= P_LENGTH;
      for (const v of Array.isArray(value) ? value : [value]) text += `${name}: ${v}\r\n`;
    }
    // assembly/http/respond.ts: flags, status, fields length, fields, body; in one buffer.
    const out = Buffer.allocUnsafe(12 + text.length + body.length);
    out.writeUInt32LE(flags, 0);
    out.writeUInt32LE(this.statusCode, 4);
    out.writeUInt32LE(text.length, 8);
    out.write(text, 12, "latin1");
    body.copy(out, 12 + text.length);
    return out;
  }
}


function toBuffer(chunk: string | Uint8Array, encoding?: BufferEncoding | WriteCallback): Buffer {
  if (typeof chunk === "string") return Buffer.from(chunk, typeof encoding === "string" ? encoding : "utf8");
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
