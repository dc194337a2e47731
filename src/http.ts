// The JS side of HTTP, shaped like node:http: IncomingRequest and ServerResponse.
// The module has already parsed and framed the request (assembly/http/); a request
// arrives whole, body included. A response goes back to the module in pieces
// (assembly/http/respond.ts), which writes the status line, Date and framing.
import { EventEmitter } from "node:events";
import { piece, slices } from "./pieces.js";
import { typedEmitter } from "./typed-events.js";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
// Written by the module for every response; a handler's own would be duplicates.
const MODULE_FIELDS = new Set(["date", "transfer-encoding", "connection", "keep-alive"]);

const P_HEAD = 1;
const P_END = 2;
const P_LENGTH = 4;
const P_CLOSE = 8;

export type Headers = Record<string, string | string[]>;

/** A request the module hands to JS (an HTTP_REQUEST outbox entry). */
export interface RequestHandoff {
  conn: number;
  /** The request as the module collected it (assembly/http/request.ts), copied out of its memory. */
  descriptor: Buffer;
}

/** The events of a request: its body, as node:http delivers it. */
export interface IncomingRequestEvents {
  /** A piece of the body (today the whole body, in one piece). */
  data: (chunk: Buffer) => void;
  /** The body is complete. */
  end: () => void;
}

/** A request the module parsed, shaped like node:http's IncomingMessage; the body is already whole. */
export class IncomingRequest extends typedEmitter<IncomingRequestEvents>() {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: "1.0" | "1.1";
  /** The request body, complete (the module collected it, up to maxBodySize). */
  readonly body: Buffer;
  private readonly fieldBytes: Buffer;
  private parsed: Headers | undefined;

  /** @internal the module hands requests over; users never construct one. */
  constructor(descriptor: Buffer) {
    super();
    const flags = descriptor.readUInt32LE(0);
    const methodLen = descriptor.readUInt32LE(4);
    const targetLen = descriptor.readUInt32LE(8);
    const fieldsLen = descriptor.readUInt32LE(12);
    const bodyLen = descriptor.readUInt32LE(16);
    let at = 20;
    this.method = descriptor.toString("latin1", at, (at += methodLen));
    this.url = descriptor.toString("latin1", at, (at += targetLen));
    this.fieldBytes = descriptor.subarray(at, (at += fieldsLen));
    this.body = descriptor.subarray(at, at + bodyLen);
    this.httpVersion = flags & 4 ? "1.0" : "1.1";
  }

  /** Header fields by lower-case name, as node:http gives them (repeats joined with ", "; set-cookie an array). */
  get headers(): Headers {
    this.parsed ??= parseFields(this.fieldBytes);
    return this.parsed;
  }

  text(): string {
    return this.body.toString("utf8");
  }

  json(): unknown {
    return JSON.parse(this.text());
  }

  /** The body as a stream of one chunk, for code written against node:http. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    if (this.body.length > 0) yield this.body;
  }
}

/**
 * Emits 'data' (if there is a body) and 'end', after the handler has had a chance to
 * listen. Through EventEmitter's own emit, not req's: a framework may have swapped req's
 * prototype (Express does); and what a listener throws is the handler's failure, not ours.
 */
function flowBody(req: IncomingRequest, body: Buffer, fail: (err: unknown) => void): void {
  const emit = EventEmitter.prototype.emit;
  setImmediate(() => {
    try {
      if (body.length > 0) emit.call(req, "data", body);
      emit.call(req, "end");
    } catch (err) {
      fail(err);
    }
  });
}

function parseFields(bytes: Buffer): Headers {
  const out: Headers = {};
  for (const line of bytes.toString("latin1").split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue; // the empty line that ends the head
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).replace(/\r$/, "").trim();
    const prev = out[name];
    if (name === "set-cookie") out[name] = [...((prev as string[] | undefined) ?? []), value];
    else out[name] = prev === undefined ? value : `${prev}, ${value}`;
  }
  return out;
}

type Sender = (piece: Buffer) => void;

/** The events of a response. */
export interface ServerResponseEvents {
  /** end() was called: the whole response has been handed to the module. */
  finish: () => void;
}

/**
 * The answer to one request, shaped like node:http's ServerResponse. The module writes
 * the status line, Date and the framing (Content-Length, or chunked after write()).
 */
export class ServerResponse extends typedEmitter<ServerResponseEvents>() {
  statusCode = 200;
  /** Kept for node:http compatibility; the module writes the standard reason phrase. */
  statusMessage = "";
  headersSent = false;
  writableEnded = false;
  private readonly fields = new Map<string, [string, string | string[]]>();

  /** @internal */
  constructor(private readonly send: Sender, readonly req: IncomingRequest) {
    super();
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    if (this.headersSent) throw new Error("wasm-reactor: cannot set headers after they are sent");
    if (!TOKEN.test(name)) throw new TypeError(`wasm-reactor: invalid header name ${JSON.stringify(name)}`);
    const v = Array.isArray(value) ? value.map(String) : String(value);
    for (const one of Array.isArray(v) ? v : [v]) {
      if (!FIELD_VALUE.test(one)) throw new TypeError(`wasm-reactor: invalid value for header ${name}: ${JSON.stringify(one)}`);
    }
    this.fields.set(name.toLowerCase(), [name, v as string | string[]]);
    return this;
  }

  getHeader(name: string): string | string[] | undefined {
    return this.fields.get(name.toLowerCase())?.[1];
  }

  getHeaders(): Headers {
    return Object.fromEntries([...this.fields].map(([k, [, v]]) => [k, v]));
  }

  hasHeader(name: string): boolean {
    return this.fields.has(name.toLowerCase());
  }

  removeHeader(name: string): void {
    if (this.headersSent) throw new Error("wasm-reactor: cannot remove headers after they are sent");
    this.fields.delete(name.toLowerCase());
  }

  /**
   * Sets the status and header fields, as node:http's: `headers` is an object, or a flat
   * array of names and values (`["X-A", "1", "Set-Cookie", "a=1", "Set-Cookie", "b=2"]`),
   * where a name given twice keeps both values.
   */
  writeHead(status: number, reasonOrHeaders?: string | Headers | string[], headers?: Headers | string[]): this {
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new RangeError(`wasm-reactor: invalid status code ${status}`);
    this.statusCode = status;
    const fields = typeof reasonOrHeaders === "object" ? reasonOrHeaders : headers;
    if (typeof reasonOrHeaders === "string") this.statusMessage = reasonOrHeaders;
    if (!Array.isArray(fields)) {
      for (const [k, v] of Object.entries(fields ?? {})) this.setHeader(k, v);
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
    return this;
  }

  /** Sends a piece of the body (the response becomes chunked unless Content-Length was set). */
  write(chunk: string | Uint8Array, encoding?: BufferEncoding | (() => void), cb?: () => void): boolean {
    if (this.writableEnded) throw new Error("wasm-reactor: write after end");
    this.sendBody(toBuffer(chunk, encoding), false);
    (typeof encoding === "function" ? encoding : cb)?.();
    return true;
  }

  end(chunk?: string | Uint8Array | (() => void), encoding?: BufferEncoding | (() => void), cb?: () => void): this {
    if (this.writableEnded) return this;
    const done = [chunk, encoding, cb].find((x) => typeof x === "function") as (() => void) | undefined;
    const body = chunk === undefined || typeof chunk === "function" ? Buffer.alloc(0) : toBuffer(chunk, encoding);
    this.writableEnded = true;
    this.sendBody(body, true);
    done?.();
    this.emit("finish");
    return this;
  }

  private sendBody(body: Buffer, end: boolean): void {
    const parts = slices(body);
    parts.forEach((part, i) => {
      const last = end && i === parts.length - 1;
      this.send(this.headersSent ? piece([last ? P_END : 0, 0, 0], part) : this.headPiece(last, part));
    });
  }

  private headPiece(end: boolean, body: Buffer): Buffer {
    this.headersSent = true;
    let flags = P_HEAD | (end ? P_END : 0);
    let text = "";
    for (const [lower, [name, value]] of this.fields) {
      if (MODULE_FIELDS.has(lower)) {
        if (lower === "connection" && /\bclose\b/i.test(String(value))) flags |= P_CLOSE;
        continue;
      }
      if (lower === "content-length") flags |= P_LENGTH;
      for (const v of Array.isArray(value) ? value : [value]) text += `${name}: ${v}\r\n`;
    }
    const fields = Buffer.from(text, "latin1");
    return piece([flags, this.statusCode, fields.length], fields, body); // assembly/http/respond.ts
  }
}

function toBuffer(chunk: string | Uint8Array, encoding?: BufferEncoding | (() => void)): Buffer {
  if (typeof chunk === "string") return Buffer.from(chunk, typeof encoding === "string" ? encoding : "utf8");
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

export type RequestListener = (req: IncomingRequest, res: ServerResponse) => unknown;

/**
 * Runs the request listeners for one request. A listener that throws (or rejects) gets
 * a 500 if nothing was sent yet; otherwise the response is ended where it stopped.
 */
export function handleRequest(listeners: RequestListener[], handoff: RequestHandoff, send: (conn: number, piece: Buffer) => void,
  onError: (err: unknown) => void): ServerResponse {
  const req = new IncomingRequest(handoff.descriptor);
  const res = new ServerResponse((p) => send(handoff.conn, p), req);
  const fail = (err: unknown) => {
    onError(err);
    if (res.writableEnded) return;
    if (!res.headersSent) {
      for (const name of Object.keys(res.getHeaders())) res.removeHeader(name);
      res.statusCode = 500;
      res.setHeader("Content-Type", "text/plain; charset=utf-8");
      res.end("Internal Server Error\n");
    } else {
      res.end();
    }
  };
  for (const listener of listeners) {
    try {
      const result = listener(req, res);
      if (result && typeof (result as Promise<void>).then === "function") (result as Promise<void>).then(undefined, fail);
    } catch (err) {
      fail(err);
    }
  }
  flowBody(req, req.body, fail);
  return res;
}
