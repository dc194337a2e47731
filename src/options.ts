// The options of createServer, their defaults and their validation.
import type { RedisPubSubOptions } from "./pubsub-redis.js";
import type { VerifyClient } from "./websocket-verify.js";
import path from "node:path";
import { JS_HANDLER_STREAMED, JS_HANDLER_WHOLE, loadModule, PROTOCOL_NAMES, startInstance, type HttpConfig, type ModuleLimit, type Protocol } from "../host/module.js";
import type { HostCallFunction } from "./calls.js";
import { DEFAULT_ROUTES, staticRoutes, type RouteSpec } from "./routes.js";

/** The hosts a server can run on; "auto" resolves to one of the others (server.backend). */
export type Backend = "native" | "uring" | "net" | "auto";

export interface ServerOptions {
  /**
   * Which host drives the module: "native" (the addon on epoll, default on Linux),
   * "uring" (the addon on io_uring: multishot receives into provided buffers in the
   * module's arena, a batch's sends in one system call; Linux 6.1+), "net" (Node's own
   * sockets, any platform) or "auto" (uring where the kernel allows it, else native,
   * else net). Where io_uring is unavailable or refused (an old kernel, seccomp,
   * kernel.io_uring_disabled, or WASM_REACTOR_IO_URING=0), "uring" falls back to native
   * with a one-line notice. Without it, native is used where the addon loads, and net
   * otherwise (with a one-line notice). `server.backend` says which runs.
   */
  backend?: Backend;
  /**
   * Which handler runs in the sandbox: "echo" (default), "line", "http", "ws" (WebSocket
   * messages in JS), "ws-echo" (WebSocket echo in the module), or "module" with `module`.
   */
  protocol?: Protocol;
  /**
   * A handler module of your own (a .wasm file built with `wasm-reactor build`, see
   * docs/HANDLERS.md): the server runs it instead of a built-in protocol. Relative paths
   * are resolved from the working directory.
   */
  module?: string;
  /** First port to listen on; 0 (default) picks an ephemeral port. */
  port?: number;
  /** How many consecutive ports to listen on, starting at `port` (default 1). */
  ports?: number;
  /** Address to bind (default "::", which also accepts IPv4); names are resolved. */
  host?: string;
  /** listen() backlog (default: the kernel's maximum, SOMAXCONN). */
  backlog?: number;
  /** Set SO_REUSEPORT so several processes or reactors can share a port. */
  reusePort?: boolean;
  /** With host "::", accept IPv6 only. */
  ipv6Only?: boolean;
  /** line: the longest line accepted, in bytes, newline excluded (default 64 KiB). */
  maxLineLength?: number;
  /**
   * http: responses answered inside the module, by path (the query is ignored), for GET
   * and HEAD: a body (200, text/plain) or { status, headers, body }. Default: GET / says hello.
   */
  routes?: Record<string, RouteSpec>;
  /** http (and a module on the SDK's HTTP level): the longest request head (request line and headers), in bytes (default 16 KiB); longer gets 431. */
  maxHeaderSize?: number;
  /** http (and a module on the SDK's HTTP level): the longest request target, in bytes (default 8 KiB); longer gets 414. */
  maxUriLength?: number;
  /**
   * http: the largest request body collected whole, in bytes (default 1 MiB): by the
   * module for a handler module or the worker pool (larger gets 413), and by
   * `req.buffer()`/`text()`/`json()` for a request listener (which reject with a 413
   * past it). A listener that reads `req` as a stream is bounded by maxStreamedBodySize.
   */
  maxBodySize?: number;
  /** http, request listeners: the largest body streamed through `req`, in bytes (default 0: no limit but 4 GiB); larger gets 413. */
  maxStreamedBodySize?: number;
  /** http, request listeners and the worker pool: ms a handler may stay silent (no piece of its answer, no read of the body) before the client gets a 503, or the answer is cut (default 120000; 0: never). On the module's clock, so it replays. */
  answerTimeout?: number;
  /** http: ms from a request's first byte to the end of its body (default 300000, node:http's; 0: never); later gets 408. A body that stops moving meets headersTimeout first. */
  requestTimeout?: number;
  /** http (and a module on the SDK's HTTP level): ms from connecting (or from a request's first byte) to the end of its headers (default 60000); then 408. */
  headersTimeout?: number;
  /** http (and a module on the SDK's HTTP level): ms a keep-alive connection may sit idle between requests (default 5000). */
  keepAliveTimeout?: number;
  /** WebSocket: accept upgrades only on this path (default: any path). */
  path?: string;
  /** WebSocket (and a module on the SDK's WebSocket level): the largest message in bytes (default 16 MiB); a larger one closes with 1009. */
  maxPayload?: number;
  /** WebSocket (protocol ws): unsent bytes per connection past which ws.send() is refused (default 16 MiB). */
  maxBufferedAmount?: number;
  /** WebSocket: subprotocols the server speaks; the first one the client offers that is here is chosen. */
  subprotocols?: string[];
  /** WebSocket: what a refused send does: "close" the connection with 1008 (default) or "drop" the message. */
  onBackpressure?: "close" | "drop";
  /**
   * WebSocket (protocol ws): decides each upgrade before its 101, shaped like the `ws`
   * package's: `(info) => boolean` (or a Promise of one), or `(info, done) => void` calling
   * `done(result, code?, message?, headers?)`. Refused upgrades are answered `code`
   * (default 401) and closed. `info.req` is the upgrade request, with its headers and
   * `req.socket.remoteAddress`. A verdict that takes longer than answerTimeout is a 503.
   */
  verifyClient?: VerifyClient;
  /**
   * WebSocket (protocol ws): relay publishes through Redis pub/sub, so every server on the
   * same Redis (and channel prefix) delivers them to its subscribers: `{ redis:
   * "redis://host:6379" }`. Needs the `redis` package. Redis down: publishes still reach
   * this server's subscribers; it reconnects by itself (events 'pubsubDown', 'pubsubUp').
   */
  pubsub?: RedisPubSubOptions;
  /**
   * Main–sub reactors: run this many sub-reactors, each a worker thread with its own
   * epoll (or io_uring) instance and module instance, sharing the ports with SO_REUSEPORT
   * (default 1: one reactor in the main thread's event loop). Native or uring backend,
   * in-module protocols.
   */
  threads?: number;
  /**
   * With threads: "reuseport" (default: every thread listens, the kernel spreads
   * connections) or "handoff" (the main thread accepts and hands each connection to a
   * thread in turn, waking it through its eventfd).
   */
  accept?: "reuseport" | "handoff";
  /**
   * Reactor + worker pool (http): run JS request handling on this many worker threads
   * (default 0: in the reactor's thread). Needs `handler`, since functions cannot move
   * between threads.
   */
  workers?: number;
  /**
   * With workers: the module (path or URL) whose default export (or `handler`) is the
   * request listener; for protocol ws, one that exports `message(data, isBinary, socket)`
   * (and optionally `open(socket)`, `close(socket, code)`).
   */
  handler?: string;
  /** Past this many open connections a new one is closed at once, cleanly (default 0: no limit; with threads, each thread takes its share). */
  maxConnections?: number;
  /** echo, line: close a connection that has sent nothing for this many ms (default 0: never). HTTP has headersTimeout and keepAliveTimeout. */
  idleTimeout?: number;
  /** close(): how long to wait for connections to flush before forcing them shut (ms). */
  closeTimeout?: number;
  /** Event records per batch (default 1024). */
  eventCapacity?: number;
  /** Bytes read per batch, at most (default 512 KiB: small enough to stay in cache). */
  readBytesPerBatch?: number;
  /**
   * The most linear memory one module instance may grow to, in bytes (default 1 GiB; with
   * threads, each sub-reactor's instance). Growing past it traps the instance, as any
   * trap does; `stats().moduleMemoryBytes` is what it has now.
   */
  maxMemory?: number;
  /**
   * A trap costs only the connection whose input caused it (default true): the instance
   * is rolled back to a checkpoint, the batches since are run again, and the poisoned
   * input is replaced by closing its connection. False: a trap restarts the instance and
   * closes all its connections.
   */
  isolateTraps?: boolean;
  /**
   * The CPU budget of a handler module's own code, per event: units of work (each loop
   * iteration and each function call in the files `wasm-reactor build` compiled counts
   * one), default 10,000,000; 0 for no limit. A handler that runs out (an endless loop)
   * traps with "CPU budget exhausted", at the same point on every host and in replay.
   */
  cpuBudget?: number;
  /**
   * protocol "module": the functions a handler may call by name (`callHost` in
   * assembly/sdk/host.ts), sync or async; what one returns (bytes, a string, or nothing)
   * is the answer, what one throws is answered ANSWER_FAILED and reported (callError).
   */
  calls?: Record<string, HostCallFunction>;
  /** protocol "module": ms a host call may go unanswered before the module answers it ANSWER_TIMED_OUT itself (default 30000). */
  callTimeout?: number;
  /**
   * Fault injection for testing supervision: a read starting with "wasm-reactor:trap!"
   * makes the module abort. Never enable it in production.
   */
  trapOnMagic?: boolean;
  /**
   * Record every batch that crosses the door to this trace file (docs/TRACE.md); the
   * file is complete once close() has finished. Replay with `wasm-reactor replay FILE`.
   */
  record?: string;
  /**
   * Keep only the recent past in memory (`batches`, default 1000, from a checkpoint of
   * the module) and write it to `path` as a replayable trace when the module traps.
   */
  flightRecorder?: { path: string; batches?: number };
}

/** The options without a default: absent means "not used". @inline */
type Optional = "backend" | "record" | "flightRecorder" | "routes" | "path" | "subprotocols" | "handler" | "module" | "calls"
  | "verifyClient" | "pubsub";
/** The options with every default filled in, as `server.options` shows them. */
export type ResolvedOptions = Required<Omit<ServerOptions, Optional>> & Pick<ServerOptions, Optional>;

const DEFAULTS: ResolvedOptions = {
  backend: undefined,
  record: undefined,
  flightRecorder: undefined,
  routes: undefined,
  path: undefined,
  subprotocols: undefined,
  verifyClient: undefined,
  pubsub: undefined,
  calls: undefined,
  handler: undefined,
  module: undefined,
  workers: 0,
  protocol: "echo",
  port: 0,
  ports: 1,
  host: "::",
  backlog: 0,
  reusePort: false,
  ipv6Only: false,
  maxLineLength: 64 * 1024,
  maxHeaderSize: 16 * 1024,
  maxUriLength: 8 * 1024,
  maxBodySize: 1024 * 1024,
  headersTimeout: 60_000,
  keepAliveTimeout: 5000,
  maxStreamedBodySize: 0,
  answerTimeout: 120_000,
  requestTimeout: 300_000,
  maxPayload: 16 * 1024 * 1024,
  maxBufferedAmount: 16 * 1024 * 1024,
  onBackpressure: "close",
  closeTimeout: 5000,
  threads: 1,
  idleTimeout: 0,
  accept: "reuseport",
  maxConnections: 0,
  eventCapacity: 1024,
  readBytesPerBatch: 512 * 1024,
  maxMemory: 1024 * 1024 * 1024,
  isolateTraps: true,
  cpuBudget: 10_000_000,
  callTimeout: 30_000,
  trapOnMagic: false,
};

const HTTP_OPTIONS = ["routes", "maxHeaderSize", "maxUriLength", "maxBodySize", "headersTimeout", "keepAliveTimeout", "maxStreamedBodySize",
  "answerTimeout", "requestTimeout"] as const;
/** The limits a module on the SDK's HTTP or WebSocket level takes, by option, and their names in HttpConfig. */
const MODULE_LIMITS = {
  maxHeaderSize: "maxHeaderBytes", maxUriLength: "maxUriBytes", maxBodySize: "maxBodyBytes", headersTimeout: "headerTimeoutMs",
  keepAliveTimeout: "idleTimeoutMs", maxPayload: "wsMaxPayload",
} as const;
const WS_OPTIONS = [...HTTP_OPTIONS, "path", "maxPayload", "subprotocols"] as const;

/**
 * The options that belong to one protocol, by protocol; every other option applies to
 * all of them. Setting one for another protocol is refused: it would do nothing.
 */
const PROTOCOL_OPTIONS: Record<Protocol, readonly (keyof ServerOptions)[]> = {
  echo: ["idleTimeout"],
  line: ["idleTimeout", "maxLineLength"],
  http: [...HTTP_OPTIONS, "workers", "handler"],
  "ws-echo": WS_OPTIONS,
  ws: [...WS_OPTIONS, "maxBufferedAmount", "onBackpressure", "verifyClient", "pubsub", "workers", "handler"],
  module: ["idleTimeout", "module", "calls", "callTimeout", ...(Object.keys(MODULE_LIMITS) as (keyof typeof MODULE_LIMITS)[])],
};
const PROTOCOL_SPECIFIC = new Set(Object.values(PROTOCOL_OPTIONS).flat());

/** Refuses an option set for a protocol it does nothing for (it would be silently ignored). */
function checkApplies(options: ServerOptions, protocol: Protocol): void {
  for (const [key, value] of Object.entries(options) as [keyof ServerOptions, unknown][]) {
    if (value === undefined || !PROTOCOL_SPECIFIC.has(key) || PROTOCOL_OPTIONS[protocol].includes(key)) continue;
    const owners = (Object.keys(PROTOCOL_OPTIONS) as Protocol[]).filter((p) => PROTOCOL_OPTIONS[p].includes(key));
    throw new TypeError(`wasm-reactor: ${key} applies to protocol ${owners.join(", ")}, not ${protocol}`);
  }
}

function integer(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`wasm-reactor: ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

export function resolveOptions(options: ServerOptions = {}): ResolvedOptions {
  const o: ResolvedOptions = { ...DEFAULTS };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (o as unknown as Record<string, unknown>)[key] = value;
  }
  if (o.module !== undefined) {
    if (options.protocol !== undefined && options.protocol !== "module") {
      throw new TypeError(`wasm-reactor: module replaces the protocol; drop protocol "${options.protocol}" (or set it to "module")`);
    }
    if (typeof o.module !== "string" || o.module === "") throw new TypeError("wasm-reactor: module must be the path of a .wasm file");
    o.protocol = "module";
    o.module = path.resolve(o.module);
    loadModule(o.module); // a missing, foreign or outdated module fails here, at createServer
    // So does an HTTP limit for a module without the HTTP level: an instance tries them.
    const limits = moduleLimits(o);
    if (limits.length > 0) {
      startInstance({ protocol: "module", moduleFile: o.module, eventCapacity: 16, arenaHalfBytes: 64 * 1024, maxLineLength: 1, limits });
    }
  } else if (o.protocol === "module") {
    throw new TypeError("wasm-reactor: protocol \"module\" needs module: the path of a .wasm built with wasm-reactor build");
  }
  if (!PROTOCOL_NAMES.includes(o.protocol)) {
    throw new TypeError(`wasm-reactor: unknown protocol "${o.protocol}" (expected ${PROTOCOL_NAMES.join(", ")})`);
  }
  checkApplies(options, o.protocol);
  if (o.backend !== undefined && !["native", "uring", "net", "auto"].includes(o.backend)) {
    throw new TypeError(`wasm-reactor: unknown backend "${o.backend}" (expected native, uring, net, auto)`);
  }
  if (o.record !== undefined && o.flightRecorder !== undefined) {
    throw new TypeError("wasm-reactor: choose record (everything) or flightRecorder (the recent past), not both");
  }
  if (o.flightRecorder) integer("flightRecorder.batches", o.flightRecorder.batches ?? 1000, 1, 1 << 24);
  integer("port", o.port, 0, 65535);
  integer("ports", o.ports, 1, 1024);
  if (o.port !== 0 && o.port + o.ports - 1 > 65535) {
    throw new RangeError(`wasm-reactor: ports ${o.port}..${o.port + o.ports - 1} run past 65535`);
  }
  integer("backlog", o.backlog, 0, 1 << 20);
  integer("maxLineLength", o.maxLineLength, 1, 1 << 30);
  integer("closeTimeout", o.closeTimeout, 0, 2 ** 31 - 1);
  integer("threads", o.threads, 1, 256);
  if (o.accept !== "reuseport" && o.accept !== "handoff") {
    throw new TypeError(`wasm-reactor: accept must be "reuseport" or "handoff", got "${o.accept}"`);
  }
  if (o.accept === "handoff" && o.threads === 1) {
    throw new TypeError("wasm-reactor: accept \"handoff\" hands connections to sub-reactors; set threads to 2 or more");
  }
  integer("maxConnections", o.maxConnections, 0, 1 << 20);
  integer("idleTimeout", o.idleTimeout, 0, 86_400_000);
  integer("workers", o.workers, 0, 256);
  if (o.workers > 0) {
    if (o.protocol !== "http" && o.protocol !== "ws") {
      throw new TypeError("wasm-reactor: workers run HTTP request handlers (protocol \"http\") or WebSocket message handlers (protocol \"ws\")");
    }
    if (!o.handler) throw new TypeError("wasm-reactor: workers need a handler module: { workers, handler: \"./handler.js\" }");
    if (o.threads > 1) throw new TypeError("wasm-reactor: choose threads (main–sub reactors) or workers (a handler pool), not both yet");
  } else if (o.handler) {
    throw new TypeError("wasm-reactor: handler is the module the workers load; set workers too (or use server.on(\"request\"))");
  }
  if (o.threads > 1) {
    if (o.backend === "net") throw new TypeError("wasm-reactor: threads need the native backend (SO_REUSEPORT listeners per thread)");
    if (o.record !== undefined || o.flightRecorder !== undefined) {
      throw new TypeError("wasm-reactor: record and flightRecorder follow one module instance; use them without threads");
    }
  }
  integer("maxHeaderSize", o.maxHeaderSize, 256, 1 << 24);
  integer("maxUriLength", o.maxUriLength, 16, 1 << 24);
  integer("maxBodySize", o.maxBodySize, 0, 2 ** 32 - 1);
  // Timeouts live on a 32-bit millisecond clock in the module: a day is far inside it.
  integer("headersTimeout", o.headersTimeout, 1, 86_400_000);
  integer("keepAliveTimeout", o.keepAliveTimeout, 1, 86_400_000);
  integer("maxStreamedBodySize", o.maxStreamedBodySize, 0, 2 ** 32 - 1);
  integer("answerTimeout", o.answerTimeout, 0, 86_400_000);
  integer("requestTimeout", o.requestTimeout, 0, 86_400_000);
  if (o.routes !== undefined) staticRoutes(o.routes); // fail here, at createServer, not at listen
  integer("maxPayload", o.maxPayload, 0, 2 ** 32 - 1);
  integer("maxBufferedAmount", o.maxBufferedAmount, 0, 2 ** 32 - 1);
  for (const p of o.subprotocols ?? []) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(p)) throw new TypeError(`wasm-reactor: subprotocol "${p}" is not a token`);
  }
  if (o.pubsub !== undefined && (typeof o.pubsub?.redis !== "string" || !/^rediss?:\/\//.test(o.pubsub.redis))) {
    throw new TypeError(`wasm-reactor: pubsub.redis must be a redis:// or rediss:// URL, got ${JSON.stringify(o.pubsub?.redis)}`);
  }
  if (o.verifyClient !== undefined && typeof o.verifyClient !== "function") {
    throw new TypeError(`wasm-reactor: verifyClient must be a function, got ${typeof o.verifyClient}`);
  }
  if (o.onBackpressure !== "close" && o.onBackpressure !== "drop") {
    throw new TypeError(`wasm-reactor: onBackpressure must be "close" or "drop", got "${o.onBackpressure}"`);
  }
  if (o.path !== undefined && (!o.path.startsWith("/") || /[^\x21-\x7e]|[?#]/.test(o.path))) {
    throw new TypeError(`wasm-reactor: path "${o.path}" must start with / (no spaces, query or fragment)`);
  }
  integer("eventCapacity", o.eventCapacity, 16, 1 << 16);
  integer("readBytesPerBatch", o.readBytesPerBatch, 64 * 1024, 1 << 30);
  integer("maxMemory", o.maxMemory, 1 << 20, 2 ** 32);
  integer("cpuBudget", o.cpuBudget, 0, 2 ** 31 - 1);
  integer("callTimeout", o.callTimeout, 1, 2 ** 30);
  for (const [name, fn] of Object.entries(o.calls ?? {})) {
    if (typeof fn !== "function") throw new TypeError(`wasm-reactor: calls.${name} must be a function`);
  }
  if (o.calls && o.threads > 1) throw new TypeError("wasm-reactor: calls need threads: 1 (host calls are answered on the main thread)");
  return o;
}

/**
 * For a user's module: the HTTP limits set to other than their defaults (which are the
 * module's own defaults too), each of which the module must take (host/module.ts).
 */
export function moduleLimits(o: ResolvedOptions): ModuleLimit[] {
  return (Object.entries(MODULE_LIMITS) as [keyof typeof MODULE_LIMITS, ModuleLimit["setting"]][])
    .filter(([option]) => o[option] !== DEFAULTS[option])
    .map(([option, setting]) => ({ option, setting, value: o[option] }));
}

/** The module's http configuration; routes default to DEFAULT_ROUTES unless a JS handler answers. */
export function httpConfig(o: ResolvedOptions, listening: boolean): HttpConfig {
  const hasRequestHandler = listening || o.workers > 0;
  return {
    maxHeaderBytes: o.maxHeaderSize,
    maxUriBytes: o.maxUriLength,
    maxBodyBytes: o.maxBodySize,
    headerTimeoutMs: o.headersTimeout,
    idleTimeoutMs: o.keepAliveTimeout,
    jsHandler: listening ? JS_HANDLER_STREAMED : o.workers > 0 && o.protocol === "http" ? JS_HANDLER_WHOLE : 0,
    answerTimeoutMs: o.answerTimeout,
    requestTimeoutMs: o.requestTimeout,
    maxStreamedBodyBytes: o.maxStreamedBodySize,
    wsMaxPayload: o.maxPayload,
    wsPath: o.path,
    wsMaxBuffered: o.maxBufferedAmount,
    wsDropOnLimit: o.onBackpressure === "drop",
    wsVerify: o.verifyClient !== undefined,
    wsProtocols: o.subprotocols,
    routes: staticRoutes(o.routes ?? (hasRequestHandler ? {} : DEFAULT_ROUTES)),
  };
}
