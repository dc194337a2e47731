// Loading a protocol's WebAssembly module and starting an instance of it on a fresh
// memory. Each protocol is a module of its own (the core plus that protocol's hooks:
// assembly/handler.ts). The host owns the memory (the module imports it), so after a
// trap a new instance starts on new memory and nothing of the old one can leak into it.
import { instantiateSync } from "@assemblyscript/loader";
import { readFileSync } from "node:fs";
import path from "node:path";
import { importedMemoryPages } from "./memory-import.js";
import { protocolModulePath } from "./paths.js";

/**
 * What the module runs: a built-in protocol (echo, line, HTTP, HTTP + WebSocket with the
 * messages in JS, HTTP + WebSocket echo), or "module", a handler module of the user's
 * (built with `wasm-reactor build`).
 */
export type Protocol = "echo" | "line" | "http" | "ws" | "ws-echo" | "module";
/** The built-in protocols, each a module (dist/<protocol>.wasm). */
export const PROTOCOLS: readonly Protocol[] = ["echo", "line", "http", "ws", "ws-echo"];
/** The names the protocol option takes: the built-ins, and "module" for a user's module. */
export const PROTOCOL_NAMES: readonly Protocol[] = [...PROTOCOLS, "module"];
/** The protocols that speak HTTP (and so take an HttpConfig). */
export const HTTP_PROTOCOLS: Protocol[] = ["http", "ws", "ws-echo"];

export interface ModuleConfig {
  protocol: Protocol;
  /** protocol "module": the user's module file (absolute path). */
  moduleFile?: string;
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
  /** Host calls unanswered this long are answered "timed out" by the module (ms; absent: its default, 30 s). */
  callTimeoutMs?: number;
  /** Units of work a handler's metered code may spend per event (absent or 0: no limit). */
  cpuBudget?: number;
  /** A trap costs the connection whose input caused it, not the instance (host/rollback.ts). */
  isolateTraps?: boolean;
  /** The most linear memory the instance may grow to, in bytes (absent: what WebAssembly allows, 4 GiB). */
  maxMemoryBytes?: number;
  /** protocol "module": HTTP limits the user set, which the module must take (it has the SDK's HTTP level). */
  limits?: ModuleLimit[];
}

/** An HTTP limit for a user's module: the option as the user named it, its HttpConfig name, the value. */
export interface ModuleLimit {
  option: string;
  setting: "maxHeaderBytes" | "maxUriBytes" | "maxBodyBytes" | "headerTimeoutMs" | "idleTimeoutMs" | "wsMaxPayload";
  value: number;
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
  /** Requests no route answers go to the host: 0 none (404), JS_HANDLER_WHOLE (the worker pool), JS_HANDLER_STREAMED (request listeners). */
  jsHandler: number;
  /** The host's handler silent this long (ms) → 503, or the answer is cut; 0: never. */
  answerTimeoutMs?: number;
  /** A request still arriving this long (ms) after it began → 408; 0: never. */
  requestTimeoutMs?: number;
  /** The largest body streamed to request listeners; 0: no limit (but 4 GiB). */
  maxStreamedBodyBytes?: number;
  /** WebSocket: the largest message; larger closes with 1009. */
  wsMaxPayload: number;
  /** WebSocket: upgrades only on this path; undefined: on any. */
  wsPath?: string;
  /** WebSocket (JS): unsent bytes past which a message from JS is refused. */
  wsMaxBuffered: number;
  /** WebSocket (JS): a refused message is dropped (else the connection closes with 1008). */
  wsDropOnLimit: boolean;
  /** WebSocket (JS): an upgrade waits for JS's verdict (verifyClient) before its 101. */
  wsVerify?: boolean;
  /** With threads: the sub-reactor this module serves (a publish skipping a connection skips it on its own thread only). */
  threadIndex?: number;
  /** WebSocket: the subprotocols the server speaks; the client's first offered match is chosen. */
  wsProtocols?: string[];
  routes: StaticRoute[];
}

// setOption keys (docs/ABI.md).
const OPT_CONN_IDLE_TIMEOUT_MS = 10;
const OPT_MAX_LINE = 11;
const OPT_CPU_BUDGET = 12;
const OPT_CALL_TIMEOUT_MS = 13;
/** The ABI version this host speaks (docs/ABI.md); a module of another is refused. */
export const ABI_VERSION = 6;
const HTTP_OPTIONS: [keyof HttpConfig, number][] = [
  ["maxHeaderBytes", 1], ["maxUriBytes", 2], ["maxBodyBytes", 3], ["headerTimeoutMs", 4], ["idleTimeoutMs", 5],
  ["jsHandler", 6], ["wsMaxPayload", 7], ["wsMaxBuffered", 8], ["wsDropOnLimit", 9],
  ["answerTimeoutMs", 14], ["requestTimeoutMs", 15], ["maxStreamedBodyBytes", 16], ["wsVerify", 17], ["threadIndex", 18],
];
/** jsHandler: requests go whole to the host (the worker pool), or streamed (request listeners: src/http.ts). */
export const JS_HANDLER_WHOLE = 1;
export const JS_HANDLER_STREAMED = 2;

/** With trapOnMagic, a read that starts with these bytes makes the module abort. */
export const TRAP_MAGIC = "wasm-reactor:trap!";
const INIT_TRAP_ON_MAGIC = 1;

type ReactorExports = {
  memory: WebAssembly.Memory;
  init(evCap: number, arenaHalf: number, flags: number): number;
  dispatch(n: number): number;
  connectionBytes(): number;
  memoryInUse?(): number;
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
  /** Module memory in use now (the rest is reserved). */
  memoryInUse: () => number;
}

/** A checked module, and the pages of memory it asks for. */
interface LoadedModule {
  module: WebAssembly.Module;
  pages: number;
}

const compiled = new Map<string, LoadedModule>();

/** The module file a config runs. */
export function modulePath(config: Pick<ModuleConfig, "protocol" | "moduleFile">): string {
  if (config.protocol !== "module") return protocolModulePath(config.protocol);
  if (!config.moduleFile) throw new TypeError("wasm-reactor: protocol \"module\" needs a module file");
  return config.moduleFile;
}

// What every module must export (docs/ABI.md), and all it may import: the door's.
const REQUIRED_EXPORTS = ["init", "dispatch", "setOption", "reserve", "connectionBytes", "ABI_VERSION"];
const ALLOWED_IMPORTS = new Set(["env.memory", "env.abort"]);

/**
 * Compiles a module file once and checks it is one of ours, of this ABI: anything else is
 * refused here with one line that says what is wrong, never a crash later.
 */
export function loadModule(file: string): LoadedModule {
  const loaded = compiled.get(file);
  if (loaded) return loaded;
  let module: WebAssembly.Module;
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const builtIn = PROTOCOLS.some((p) => protocolModulePath(p) === file);
    throw new Error(code === "ENOENT" ? `wasm-reactor: ${file} does not exist${builtIn ? "; run npm run build" : ""}`
      : `wasm-reactor: cannot read ${file} (${(err as Error).message})`);
  }
  try {
    module = new WebAssembly.Module(bytes);
  } catch (err) {
    throw new Error(`wasm-reactor: ${file} is not a WebAssembly module (${(err as Error).message})`);
  }
  const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = REQUIRED_EXPORTS.filter((name) => !exported.has(name));
  if (missing.length > 0) {
    throw new Error(`wasm-reactor: ${file} is not a wasm-reactor handler module (it does not export ${missing.join(", ")}); `
      + "build it with: npx wasm-reactor build handler.ts -o handler.wasm");
  }
  const foreign = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`).filter((name) => !ALLOWED_IMPORTS.has(name));
  if (foreign.length > 0) {
    throw new Error(`wasm-reactor: ${file} imports ${foreign.join(", ")}, which the sandbox does not provide `
      + "(only env.memory and env.abort; Math.random and Date.now are not available in a handler)");
  }
  const pages = importedMemoryPages(bytes);
  const version = moduleAbiVersion(module, pages);
  if (version !== ABI_VERSION) {
    throw new Error(`wasm-reactor: ${file} was built for ABI ${version}, and this wasm-reactor speaks ABI ${ABI_VERSION}: `
      + "rebuild it with this version's wasm-reactor build");
  }
  compiled.set(file, { module, pages });
  return { module, pages };
}

/** The module's ABI_VERSION global, read from a throwaway instance (its start function runs no I/O). */
function moduleAbiVersion(module: WebAssembly.Module, pages: number): number {
  const memory = new WebAssembly.Memory({ initial: pages });
  const abort = () => { throw new Error("aborted while starting"); };
  try {
    const instance = new WebAssembly.Instance(module, { env: { memory, abort } });
    return Number((instance.exports.ABI_VERSION as WebAssembly.Global).value);
  } catch {
    return -1;
  }
}

export function startInstance(config: ModuleConfig): ModuleInstance {
  const { module, pages } = loadModule(modulePath(config));
  const maximum = config.maxMemoryBytes === undefined ? undefined : Math.floor(config.maxMemoryBytes / 65536);
  if (maximum !== undefined && maximum < pages) {
    throw new RangeError(`wasm-reactor: maxMemory (${config.maxMemoryBytes} bytes) is below the ${pages * 64} KiB `
      + `${path.basename(modulePath(config))} declares`);
  }
  const memory = new WebAssembly.Memory({ initial: pages, maximum });
  const { exports } = instantiateSync<ReactorExports>(module, { env: { memory } });
  let header: number;
  try {
    header = exports.init(config.eventCapacity, config.arenaHalfBytes, config.trapOnMagic ? INIT_TRAP_ON_MAGIC : 0);
  } catch (err) {
    if (!/memory cap reached/.test(String(err))) throw err;
    throw new RangeError(`wasm-reactor: maxMemory (${config.maxMemoryBytes} bytes) is below what `
      + `${path.basename(modulePath(config))} needs to start (its rings and a read arena of twice readBytesPerBatch)`);
  }
  if (config.protocol === "line") exports.setOption(OPT_MAX_LINE, config.maxLineLength);
  if (config.http) configureHttp(exports, memory, config.http);
  if (config.idleTimeoutMs) exports.setOption(OPT_CONN_IDLE_TIMEOUT_MS, config.idleTimeoutMs);
  if (config.cpuBudget) exports.setOption(OPT_CPU_BUDGET, config.cpuBudget);
  if (config.callTimeoutMs) exports.setOption(OPT_CALL_TIMEOUT_MS, config.callTimeoutMs);
  for (const limit of config.limits ?? []) {
    if (!exports.setOption(HTTP_OPTIONS.find(([name]) => name === limit.setting)![1], limit.value)) {
      throw new TypeError(`wasm-reactor: ${limit.option} does nothing for ${path.basename(modulePath(config))}: `
        + "it has no HTTP or WebSocket level (wasm-reactor/assembly/sdk/http, …/sdk/websocket)");
    }
  }
  return { memory, exports: exports as unknown as WebAssembly.Exports, dispatch: exports.dispatch, header,
    connectionBytes: exports.connectionBytes, memoryInUse: exports.memoryInUse ?? (() => memory.buffer.byteLength) };
}

function configureHttp(exports: ReactorExports, memory: WebAssembly.Memory, http: HttpConfig): void {
  for (const [name, key] of HTTP_OPTIONS) if (http[name] !== undefined) exports.setOption(key, Number(http[name]));
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
