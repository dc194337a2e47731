// The request side of the JS HTTP layer: a stream.Readable shaped like node:http's
// IncomingMessage. The module hands the head over as soon as it is parsed, and the body
// follows in pieces (assembly/http/stream.ts); what JS has read is reported back, and
// the module stops reading the socket while a window of body waits unread here.
import { Readable } from "node:stream";
import type { RequestSocket } from "./http-socket.js";
import { keepMethods } from "./own-methods.js";

export type Headers = Record<string, string | string[]>;

/** Descriptor flags (assembly/http/request.ts, assembly/http/stream.ts). */
const REQ_HTTP10 = 4;
const REQ_STREAMED = 8;
/** A streamed body's length when it is chunked (its length is not known ahead). */
const BODY_CHUNKED = 0xffffffff;
/** Body bytes the stream buffers before it stops asking the module for more. */
const READ_HIGH_WATER = 64 * 1024;

/** The events of a request, as node:http's IncomingMessage emits them. */
export interface IncomingRequestEvents {
  /** A piece of the body. */
  data: (chunk: Buffer) => void;
  /** The body is complete (and was read). */
  end: () => void;
  /** The connection ended before the body did. */
  aborted: () => void;
  close: () => void;
  error: (err: Error) => void;
}

/** An HTTP error with a status (as http-errors makes them): the status is the client's answer if nothing was sent. */
export function httpError(status: number, message: string): Error & { status: number; statusCode: number; expose: boolean } {
  return Object.assign(new Error(message), { status, statusCode: status, expose: true });
}

/**
 * A request the module parsed, shaped like node:http's IncomingMessage: a Readable of
 * its body, with method, url, headers, rawHeaders and socket. `text()`, `json()` and
 * `buffer()` collect the body whole (up to maxBodySize, else they reject with a 413).
 */
export class IncomingRequest extends Readable {
  method: string;
  url: string;
  httpVersion: "1.0" | "1.1";
  httpVersionMajor = 1;
  httpVersionMinor: 0 | 1;
  /** Header fields by lower-case name, as node:http gives them (repeats joined with ", "; set-cookie an array). */
  headers: Headers;
  /** Names and values as received, in turn. */
  rawHeaders: string[];
  trailers: Headers = {};
  rawTrailers: string[] = [];
  /** Whether the whole body has arrived. */
  complete: boolean;
  /** Whether the connection ended before the body did. */
  aborted = false;
  upgrade = false;
  /** The body, once `buffer()`, `text()` or `json()` has collected it (a framework may put its own parse here). */
  body: unknown;
  socket: RequestSocket | undefined;
  /** node:http's old name for `socket`. */
  connection: RequestSocket | undefined;
  /** @internal the length the module announced: Content-Length, 0, or BODY_CHUNKED */
  readonly bodyLength: number;
  private unacknowledged = 0;
  private acknowledging = false;
  private collected: Promise<Buffer> | undefined;

  /**
   * @internal the module hands requests over; users never construct one. `readBody`
   * tells the module how many body bytes were read (streamed requests only).
   */
  constructor(descriptor: Buffer, socket?: RequestSocket, private readonly readBody?: (bytes: number) => void,
    private readonly maxBodySize = Infinity) {
    super({ highWaterMark: READ_HIGH_WATER });
    const flags = descriptor.readUInt32LE(0);
    const methodLen = descriptor.readUInt32LE(4);
    const targetLen = descriptor.readUInt32LE(8);
    const fieldsLen = descriptor.readUInt32LE(12);
    const bodyLen = descriptor.readUInt32LE(16);
    let at = 20;
    this.method = descriptor.toString("latin1", at, (at += methodLen));
    this.url = descriptor.toString("latin1", at, (at += targetLen));
    [this.headers, this.rawHeaders] = parseFields(descriptor.toString("latin1", at, (at += fieldsLen)));
    this.httpVersionMinor = flags & REQ_HTTP10 ? 0 : 1;
    this.httpVersion = flags & REQ_HTTP10 ? "1.0" : "1.1";
    this.socket = this.connection = socket;
    const streamed = (flags & REQ_STREAMED) !== 0;
    this.bodyLength = streamed ? bodyLen : 0;
    this.complete = !streamed || bodyLen === 0;
    // A framework may swap this object's prototype (Express does, for one whose chain is
    // node's IncomingMessage's): what the stream machinery and users call must stay ours.
    keepMethods(this, IncomingRequest.prototype);
    if (!streamed) {
      const body = descriptor.subarray(at, at + bodyLen);
      if (body.length > 0) Readable.prototype.push.call(this, body);
      Readable.prototype.push.call(this, null);
    } else if (bodyLen === 0) {
      Readable.prototype.push.call(this, null);
    }
  }

  /** @internal a piece of the streamed body (empty: the body is complete). */
  deliver(chunk: Buffer): void {
    if (this.destroyed) return;
    if (chunk.length === 0) {
      this.complete = true;
      Readable.prototype.push.call(this, null);
      return;
    }
    this.unacknowledged += chunk.length;
    if (Readable.prototype.push.call(this, chunk)) this.acknowledge();
  }

  /** @internal the connection ended before the exchange did. */
  abort(): void {
    if (this.complete || this.destroyed) return;
    this.aborted = true;
    this.emit("aborted");
    this.destroy(Object.assign(new Error("aborted"), { code: "ECONNRESET" }));
  }

  /** The consumer wants more: the module may read on. */
  override _read(): void {
    this.acknowledge();
  }

  /** Errors reach 'error' listeners only if there are any, as with node:http (an aborted upload must not crash a server). */
  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    callback(this.listenerCount("error") > 0 ? err : null);
  }

  /** Tells the module what was read, once per tick however many pieces went by. */
  private acknowledge(): void {
    if (this.unacknowledged === 0 || this.acknowledging || !this.readBody) return;
    this.acknowledging = true;
    queueMicrotask(() => {
      this.acknowledging = false;
      const n = this.unacknowledged;
      this.unacknowledged = 0;
      if (n > 0) this.readBody!(n);
    });
  }

  /**
   * The whole body, collected (also set as `req.body`). Past maxBodySize it rejects
   * with an error whose status is 413, which the server answers if the handler lets it
   * escape. Streaming `req` has no such limit.
   */
  buffer(): Promise<Buffer> {
    this.collected ??= new Promise<Buffer>((resolve, reject) => {
      if (this.bodyLength !== BODY_CHUNKED && this.bodyLength > this.maxBodySize) {
        reject(httpError(413, `wasm-reactor: request body of ${this.bodyLength} bytes is larger than maxBodySize (${this.maxBodySize})`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.maxBodySize) {
          this.off("data", onData);
          reject(httpError(413, `wasm-reactor: request body is larger than maxBodySize (${this.maxBodySize})`));
          return;
        }
        chunks.push(chunk);
      };
      this.on("data", onData);
      this.once("end", () => {
        const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
        this.body = body;
        resolve(body);
      });
      this.once("error", reject);
      this.once("aborted", () => reject(Object.assign(new Error("wasm-reactor: the client went away before the body was complete"), { code: "ECONNRESET" })));
    });
    return this.collected;
  }

  /** The whole body as UTF-8 text (see buffer()). */
  async text(): Promise<string> {
    return (await this.buffer()).toString("utf8");
  }

  /** The whole body, parsed as JSON (see buffer()); malformed JSON rejects with a 400. */
  async json(): Promise<unknown> {
    const text = await this.text();
    try {
      return JSON.parse(text);
    } catch (err) {
      throw httpError(400, `wasm-reactor: request body is not JSON: ${(err as Error).message}`);
    }
  }

  /** As node:http's: the socket's inactivity timeout, for this exchange. */
  setTimeout(ms: number, callback?: () => void): this {
    this.socket?.setTimeout(ms, callback);
    return this;
  }
}

/** The head's field lines: node:http's headers object and rawHeaders list. */
function parseFields(text: string): [Headers, string[]] {
  const headers: Headers = {};
  const raw: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const line = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
    start = end + 1;
    const colon = line.indexOf(":");
    if (colon <= 0) continue; // the empty line that ends the head
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    raw.push(name, value);
    const lower = name.toLowerCase();
    const prev = headers[lower];
    if (lower === "set-cookie") headers[lower] = [...((prev as string[] | undefined) ?? []), value];
    else headers[lower] = prev === undefined ? value : `${prev}, ${value}`;
  }
  return [headers, raw];
}
