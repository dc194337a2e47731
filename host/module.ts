// Loading a protocol's WebAssembly module and starting an instance of it on a fresh
// memory. Each protocol is a module of its own (the core plus that protocol's hooks:
// assembly/handler.ts). The host owns the memory (the module imports it), so after a
// trap a new instance starts on new memory and nothing of the old one can leak into it.
import { instantiateSync } from "@assemblyscript/loader";
import { readFileSync } from "node:fs";
import { protocolModulePath } from "./paths.js";

/** The handlers the module runs: echo, line, HTTP, HTTP + WebSocket (messages in JS), HTTP + WebSocket echo. */
export type Protocol = "echo" | "line" | "http" | "ws" | "ws-echo";
/** The built-in protocols, each a module (dist/<protocol>.wasm). */
export const PROTOCOLS: readonly Protocol[] = ["echo", "line", "http", "ws", "ws-echo"];
/** The protocols that speak HTTP (and so take an HttpConfig). */
export const HTTP_PROTOCOLS: Protocol[] = ["http", "ws", "ws-echo"];

export interface ModuleConfig {
  protocol: Protocol;
  /** Event records per batch (the submission ring holds twice as many). */
  eventCapacity: number;
  /** Bytes the host may read per batch; the arena holds two halves. */
  arenaHalfBytes: number;
  maxLineLength: number;
  /** Fault injection: the module aborts on a read starting with TRAP_MAGIC. */
  trapOnMagic?: boolean;
  /** http: limits, timeouts and the static route table. */
  http?: HttpConfig;
  /** echo, line: close a connection that has sent nothing for this long (ms; 0 or absent: never). */
  idleTimeoutMs?: number;
}

/** A static response, answered inside the module. */
export interface StaticRoute {
  path: string;
  status: number;
  headers: [string, string][];
  /** The body, base64 (so that a config is plain JSON, as trace headers are). */
  bodyBase64: string;
}

export interface HttpConfig {
  maxHeaderBytes: number;
  maxUriBytes: number;
  maxBodyBytes: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  /** Requests no route answers go to the host's request handler (else 404). */
  jsHandler: boolean;
  /** WebSocket: the largest message; larger closes with 1009. */
  wsMaxPayload: number;
  /** WebSocket: upgrades only on this path; undefined: on any. */
  wsPath?: string;
  /** WebSocket (JS): unsent bytes past which a message from JS is refused. */
  wsMaxBuffered: number;
  /** WebSocket (JS): a refused message is dropped (else the connection closes with 1008). */
  wsDropOnLimit: boolean;
  /** WebSocket: the subprotocols the server speaks; the client's first offered match is chosen. */
  wsProtocols?: string[];
  routes: StaticRoute[];
}

// setOption keys (docs/ABI.md).
const OPT_CONN_IDLE_TIMEOUT_MS = 10;
const OPT_MAX_LINE = 11;
/** The ABI version this host speaks (docs/ABI.md); a module of another is refused. */
export const ABI_VERSION = 3;
const HTTP_OPTIONS: [keyof HttpConfig, number][] = [
  ["maxHeaderBytes", 1], ["maxUriBytes", 2], ["maxBodyBytes", 3], ["headerTimeoutMs", 4], ["idleTimeoutMs", 5],
  ["jsHandler", 6], ["wsMaxPayload", 7], ["wsMaxBuffered", 8], ["wsDropOnLimit", 9],
];

/** With trapOnMagic, a read that starts with these bytes makes the module abort. */
export const TRAP_MAGIC = "wasm-reactor:trap!";
const INIT_TRAP_ON_MAGIC = 1;

type ReactorExports = {
  memory: WebAssembly.Memory;
  init(evCap: number, arenaHalf: number, flags: number): number;
  dispatch(n: number): number;
  connectionBytes(): number;
  setOption(key: number, value: number): number;
  reserve(bytes: number): number;
  addRoute(ptr: number, len: number): number;
  setWebSocketPath(ptr: number, len: number): void;
  setWebSocketProtocols(ptr: number, len: number): void;
};

export interface ModuleInstance {
  memory: WebAssembly.Memory;
  /** All exports, for checkpoints (host/checkpoint.ts). */
  exports: WebAssembly.Exports;
  dispatch: (n: number) => number;
  header: number;
  connectionBytes: () => number;
}

const compiled = new Map<string, WebAssembly.Module>();

/** The module file a config runs. */
export function modulePath(config: Pick<ModuleConfig, "protocol">): string {
  return protocolModulePath(config.protocol);
}

function compiledModule(file: string): WebAssembly.Module {
  let module = compiled.get(file);
  if (!module) {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(readFileSync(file));
    } catch {
      throw new Error(`wasm-reactor: ${file} is missing; run npm install (or npm run build)`);
    }
    module = new WebAssembly.Module(bytes);
    compiled.set(file, module);
  }
  return module;
}

export function startInstance(config: ModuleConfig): ModuleInstance {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const { exports } = instantiateSync<ReactorExports>(compiledModule(modulePath(config)), { env: { memory } });
  const header = exports.init(config.eventCapacity, config.arenaHalfBytes, config.trapOnMagic ? INIT_TRAP_ON_MAGIC : 0);
  if (config.protocol === "line") exports.setOption(OPT_MAX_LINE, config.maxLineLength);
  if (config.http) configureHttp(exports, memory, config.http);
  if (config.idleTimeoutMs) exports.setOption(OPT_CONN_IDLE_TIMEOUT_MS, config.idleTimeoutMs);
  return { memory, exports: exports as unknown as WebAssembly.Exports, dispatch: exports.dispatch, header,
    connectionBytes: exports.connectionBytes };
}

function configureHttp(exports: ReactorExports, memory: WebAssembly.Memory, http: HttpConfig): void {
  for (const [name, key] of HTTP_OPTIONS) exports.setOption(key, Number(http[name]));
  for (const route of http.routes) {
    const [ptr, len] = place(exports, memory, routeBytes(route));
    if (!exports.addRoute(ptr, len)) throw new Error(`wasm-reactor: the module refused the route ${route.path}`);
  }
  if (http.wsPath !== undefined) exports.setWebSocketPath(...place(exports, memory, Buffer.from(http.wsPath, "latin1")));
  if (http.wsProtocols?.length) {
    exports.setWebSocketProtocols(...place(exports, memory, Buffer.from(http.wsProtocols.join(","), "latin1")));
  }
}

/** Copies set-up bytes into memory the module reserved for them. */
function place(exports: ReactorExports, memory: WebAssembly.Memory, bytes: Buffer): [number, number] {
  const ptr = exports.reserve(bytes.length);
  new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);
  return [ptr, bytes.length];
}

/** addRoute's input (assembly/http/routes.ts): four u32 lengths, then path, fields, body. */
function routeBytes(route: StaticRoute): Buffer {
  const path = Buffer.from(route.path, "latin1");
  const fields = Buffer.from(route.headers.map(([name, value]) => `${name}: ${value}\r\n`).join(""), "latin1");
  const body = Buffer.from(route.bodyBase64, "base64");
  const head = Buffer.alloc(16);
  head.writeUInt32LE(route.status, 0);
  head.writeUInt32LE(path.length, 4);
  head.writeUInt32LE(fields.length, 8);
  head.writeUInt32LE(body.length, 12);
  return Buffer.concat([head, path, fields, body]);
}
