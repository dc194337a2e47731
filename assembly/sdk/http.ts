// The HTTP level of the handler SDK: requests parsed by the module's own HTTP/1.1 parser
// (limits, keep-alive, pipelining, chunked bodies, 408/413/431 …: what the http protocol
// does), answered by your AssemblyScript, within the dispatch.
//
//   export * from "wasm-reactor/assembly/door";
//   import { get, respondText } from "wasm-reactor/assembly/sdk/http";
//
//   get("/hello/:name", (conn: u32, req: Request): void => {
//     respondText(conn, 200, "text/plain", "hello");
//   });
//
// Nothing is allocated per request: `req` is one view, reused, onto the request's bytes
// (valid during the handler only), and its parts are Bytes views too. A handler answers
// (respond*) before it returns, or says it will answer later (answerLater: after a host
// call, say); one that does neither gets a 500.

import { OPT_JS_HANDLER } from "../abi";
import { setHttpOption, wsMode } from "../http/config";
import { setRequestHook } from "../http/inmodule";
import { registerHttp } from "../http/register";
import { discardHeaders, respondText } from "./http-response";

export { answerLater, respond, respondText, setHeader, setHeaderBytes } from "./http-response";

/** A view onto bytes of the request (valid during the handler only). */
@unmanaged export class Bytes {
  ptr: usize = 0;
  length: u32 = 0;

  /** Whether the bytes are `text` (ASCII). */
  equals(text: string): bool {
    if (this.length != <u32>text.length) return false;
    for (let i: u32 = 0; i < this.length; i++) {
      if (<i32>load<u8>(this.ptr + i) != text.charCodeAt(i)) return false;
    }
    return true;
  }

  /** The bytes as a decimal number, or -1 if they are not one. */
  toNumber(): i64 {
    if (this.length == 0 || this.length > 18) return -1;
    let n: i64 = 0;
    for (let i: u32 = 0; i < this.length; i++) {
      const c = load<u8>(this.ptr + i);
      if (c < 0x30 || c > 0x39) return -1;
      n = n * 10 + (c - 0x30);
    }
    return n;
  }

  /** A copy as a string (allocates: see docs/HANDLERS.md on memory). */
  toString(): string {
    return String.UTF8.decodeUnsafe(this.ptr, this.length, false);
  }
}

const MAX_PARAMS: u32 = 8;

/** The request being handled. */
@unmanaged export class Request {
  /** GET, POST, … as sent. */
  method: Bytes = new Bytes();
  /** The path, without the query. */
  path: Bytes = new Bytes();
  /** What follows "?" in the target (empty without one). */
  query: Bytes = new Bytes();
  /** The body, whole (up to the module's body limit, 1 MiB). */
  body: Bytes = new Bytes();
  /** The header fields as received, "Name: value\r\n" each. */
  fields: Bytes = new Bytes();
  /** Whether it was HTTP/1.0. */
  http10: bool = false;
  // The matched route's parameters: where each name sits in its pattern, and its value.
  paramCount: u32 = 0;
  paramPattern: string = "";
  paramNameAt: StaticArray<i32> = new StaticArray<i32>(MAX_PARAMS);
  paramNameEnd: StaticArray<i32> = new StaticArray<i32>(MAX_PARAMS);
  paramValues: StaticArray<Bytes> = paramViews();

  /** A path parameter of the route (":id" in "/users/:id"), or an empty view. */
  param(name: string): Bytes {
    for (let i: u32 = 0; i < this.paramCount; i++) {
      const from = unchecked(this.paramNameAt[i]);
      if (unchecked(this.paramNameEnd[i]) - from != name.length) continue;
      let same = true;
      for (let c = 0; c < name.length && same; c++) same = this.paramPattern.charCodeAt(from + c) == name.charCodeAt(c);
      if (same) return unchecked(this.paramValues[i]);
    }
    return EMPTY;
  }

  /** A header field's value by name (any case), or an empty view. */
  header(name: string): Bytes {
    let at = this.fields.ptr;
    const end = at + this.fields.length;
    while (at < end) {
      let lineEnd = at;
      while (lineEnd < end && load<u8>(lineEnd) != 0x0a) lineEnd++;
      const colon = at + <usize>name.length;
      if (colon < lineEnd && load<u8>(colon) == 0x3a && sameName(at, name)) {
        let v = colon + 1;
        while (v < lineEnd && (load<u8>(v) == 0x20 || load<u8>(v) == 0x09)) v++;
        let e = lineEnd;
        while (e > v && (load<u8>(e - 1) == 0x0d || load<u8>(e - 1) == 0x20 || load<u8>(e - 1) == 0x09)) e--;
        FIELD.ptr = v;
        FIELD.length = <u32>(e - v);
        return FIELD;
      }
      at = lineEnd + 1;
    }
    return EMPTY;
  }
}

function paramViews(): StaticArray<Bytes> {
  const views = new StaticArray<Bytes>(MAX_PARAMS);
  for (let i: u32 = 0; i < MAX_PARAMS; i++) unchecked(views[i] = new Bytes());
  return views;
}

function sameName(p: usize, name: string): bool {
  for (let i = 0; i < name.length; i++) {
    let c = <i32>load<u8>(p + i);
    let d = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (d >= 0x41 && d <= 0x5a) d += 0x20;
    if (c != d) return false;
  }
  return true;
}

// One of each, made once at start-up (the runtime has no collector: docs/HANDLERS.md).
const EMPTY = new Bytes();
const FIELD = new Bytes();
const REQUEST = new Request();

type Handler = (conn: u32, req: Request) => void;

// Routes, in the order registered: method ("" for any), pattern, handler.
const MAX_ROUTES: i32 = 64;
const routeMethods = new StaticArray<string>(MAX_ROUTES);
const routePatterns = new StaticArray<string>(MAX_ROUTES);
const routeHandlers = new StaticArray<Handler>(MAX_ROUTES);
// [routes registered u32, fallback handler (a function reference) or 0]
const ROUTING = memory.data(8);

/** Answers `method` requests whose path matches `pattern` ("/users/:id": ":id" matches one segment). */
export function route(method: string, pattern: string, fn: Handler): void {
  const n = <i32>load<u32>(ROUTING, 0);
  assert(n < MAX_ROUTES, "too many routes");
  unchecked(routeMethods[n] = method);
  unchecked(routePatterns[n] = pattern);
  unchecked(routeHandlers[n] = fn);
  store<u32>(ROUTING, n + 1, 0);
  useHttp();
}

export function get(pattern: string, fn: Handler): void { route("GET", pattern, fn); }
export function post(pattern: string, fn: Handler): void { route("POST", pattern, fn); }
export function put(pattern: string, fn: Handler): void { route("PUT", pattern, fn); }
export function del(pattern: string, fn: Handler): void { route("DELETE", pattern, fn); }

/** Every request no route matched (without it: 404, or 405 when another method's route matched). */
export function onRequest(fn: Handler): void {
  store<u32>(ROUTING, changetype<u32>(fn), 4);
  useHttp();
}

/**
 * Turns the module into an HTTP server: the http protocol's hooks, with its default
 * limits (http/config.ts). Calling it again changes nothing.
 */
function useHttp(): void {
  registerHttp(wsMode()); // WS_OFF, or WS_ON when the WebSocket level is used too
  setHttpOption(OPT_JS_HANDLER, 1); // requests go to a handler: ours, in the module
  setRequestHook(dispatchRequest);
}

/** Whether `path` matches `pattern`, filling the request's parameters. */
function matches(pattern: string, path: Bytes): bool {
  REQUEST.paramCount = 0;
  REQUEST.paramPattern = pattern;
  let p: i32 = 0;
  let at: u32 = 0;
  const n = pattern.length;
  while (p < n) {
    if (pattern.charCodeAt(p) == 0x3a) { // ":name": one segment
      let nameEnd = p + 1;
      while (nameEnd < n && pattern.charCodeAt(nameEnd) != 0x2f) nameEnd++;
      const start = at;
      while (at < path.length && load<u8>(path.ptr + at) != 0x2f) at++;
      if (at == start || REQUEST.paramCount == MAX_PARAMS) return false;
      const i = REQUEST.paramCount++;
      unchecked(REQUEST.paramNameAt[i] = p + 1);
      unchecked(REQUEST.paramNameEnd[i] = nameEnd);
      const view = unchecked(REQUEST.paramValues[i]);
      view.ptr = path.ptr + start;
      view.length = at - start;
      p = nameEnd;
      continue;
    }
    if (at >= path.length || <i32>load<u8>(path.ptr + at) != pattern.charCodeAt(p)) return false;
    p++;
    at++;
  }
  return at == path.length;
}

function dispatchRequest(conn: u32, d: usize, length: u32): void {
  discardHeaders(); // set for a request that was never answered
  const flags = load<u32>(d);
  const methodLen = load<u32>(d, 4);
  const targetLen = load<u32>(d, 8);
  const fieldsLen = load<u32>(d, 12);
  const bodyLen = load<u32>(d, 16);
  const req = REQUEST;
  req.method.ptr = d + 20;
  req.method.length = methodLen;
  const target = d + 20 + methodLen;
  let pathLen: u32 = 0;
  while (pathLen < targetLen && load<u8>(target + pathLen) != 0x3f) pathLen++;
  req.path.ptr = target;
  req.path.length = pathLen;
  req.query.ptr = target + min(pathLen + 1, targetLen);
  req.query.length = targetLen - min(pathLen + 1, targetLen);
  req.fields.ptr = target + targetLen;
  req.fields.length = fieldsLen;
  req.body.ptr = target + targetLen + fieldsLen;
  req.body.length = bodyLen;
  req.http10 = (flags & 4) != 0;
  const routes = <i32>load<u32>(ROUTING, 0);
  let pathMatched = false;
  for (let i = 0; i < routes; i++) {
    if (!matches(unchecked(routePatterns[i]), req.path)) continue;
    const method = unchecked(routeMethods[i]);
    if (req.method.equals(method) || (method == "GET" && req.method.equals("HEAD"))) {
      unchecked(routeHandlers[i])(conn, req);
      return;
    }
    pathMatched = true;
  }
  req.paramCount = 0;
  const fallback = load<u32>(ROUTING, 4);
  if (fallback != 0) changetype<Handler>(fallback)(conn, req);
  else if (pathMatched) respondText(conn, 405, "text/plain; charset=utf-8", "Method Not Allowed\n");
  else respondText(conn, 404, "text/plain; charset=utf-8", "Not Found\n");
}
