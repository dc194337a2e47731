// Static routes for the http protocol: what users write in options and on the command
// line, checked and turned into the module's route table (host/module.ts StaticRoute).
import type { StaticRoute } from "../host/module.js";

export type RouteBody = string | Uint8Array;

/** A route's response: a body (200, text/plain), or the whole of it. */
export type RouteSpec = RouteBody | { status?: number; headers?: Record<string, string>; body?: RouteBody };

/** Served when the http protocol is chosen without routes and without a request handler. */
export const DEFAULT_ROUTES: Record<string, RouteSpec> = { "/": "Hello from wasm-reactor\n" };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
// The module writes these itself, for every response.
const RESERVED = new Set(["content-length", "transfer-encoding", "date", "connection"]);

export function staticRoutes(routes: Record<string, RouteSpec>): StaticRoute[] {
  return Object.entries(routes).map(([path, spec]) => staticRoute(path, spec));
}

function staticRoute(path: string, spec: RouteSpec): StaticRoute {
  if (!path.startsWith("/") || /[\s?#]/.test(path) || /[^\x21-\x7e]/.test(path)) {
    throw new TypeError(`wasm-reactor: route "${path}" must be a path starting with / (no spaces, query or fragment)`);
  }
  const full = typeof spec === "string" || spec instanceof Uint8Array ? { body: spec } : spec;
  const status = full.status ?? 200;
  if (!Number.isInteger(status) || status < 200 || status > 999 || status === 204 || status === 304) {
    throw new RangeError(`wasm-reactor: route "${path}": status must be 200-999 (not 204 or 304, which have no body), got ${status}`);
  }
  const headers: [string, string][] = [];
  let hasType = false;
  for (const [name, value] of Object.entries(full.headers ?? {})) {
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) {
      throw new TypeError(`wasm-reactor: route "${path}": invalid header ${JSON.stringify(name)}: ${JSON.stringify(value)}`);
    }
    if (RESERVED.has(name.toLowerCase())) {
      throw new TypeError(`wasm-reactor: route "${path}": ${name} is written by the server, leave it out`);
    }
    hasType ||= name.toLowerCase() === "content-type";
    headers.push([name, value]);
  }
  const body = full.body ?? "";
  if (!hasType) headers.unshift(["Content-Type", typeof body === "string" ? "text/plain; charset=utf-8" : "application/octet-stream"]);
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
  return { path, status, headers, bodyBase64: bytes.toString("base64") };
}

/** `--route /path=text` (text may be empty; "\n" in it is a newline); undefined if malformed. */
export function parseRouteFlag(flag: string): [string, string] | undefined {
  const eq = flag.indexOf("=");
  if (eq <= 0) return undefined;
  return [flag.slice(0, eq), flag.slice(eq + 1).replace(/\\n/g, "\n")];
}
