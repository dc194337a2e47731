// The public server: node:net-like lifecycle (listen, address, close, events)
// around one reactor host.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { constants } from "node:os";
import { loadAddon, uringUnavailable } from "../host/addon.js";
import type { HostStats, ReactorHost } from "../host/host.js";
import { HTTP_PROTOCOLS, JS_HANDLER_STREAMED, type ModuleConfig } from "../host/module.js";
import { NativeHost, URING_ARENA_HALF_BYTES } from "../host/native.js";
import { NetHost } from "../host/net.js";
import { ThreadedHost } from "../host/threads.js";
import { FlightRecorder, moduleDigest, TraceWriter, type Recorder } from "../host/trace.js";
import { EV } from "../host/door.js";
import { ConnectionPeers } from "./peers.js";
import { RedisRelay, type RedisPubSubOptions } from "./pubsub-redis.js";
import { WebSocketRegistry, type WebSocket, type WebSocketData } from "./websocket.js";
import { HandlerPool, type WebSocketAction } from "./handler-pool.js";
import { HttpExchanges, type IncomingRequest, type NodeRequestListener, type RequestListener, type ServerResponse } from "./http.js";
import { typedEmitter } from "./typed-events.js";
import { deliverOutbox } from "./outbox.js";
import { HostCalls, type HostCallInfo } from "./calls.js";
import { httpConfig, moduleLimits, resolveOptions, type Backend, type ResolvedOptions, type ServerOptions } from "./options.js";

export interface AddressInfo {
  address: string;
  family: "IPv4" | "IPv6";
  port: number;
}

export interface ServerStats extends HostStats {
  /** The cap on each module instance's memory (the maxMemory option), in bytes. */
  moduleMemoryLimitBytes: number;
}

type State = "idle" | "starting" | "listening" | "closing" | "closed";

/** The hosts a server runs on: what `backend` resolves to here. */
export type RunningBackend = Exclude<Backend, "auto">;

let fallbackNoticeShown = false;
let uringNoticeShown = false;

/** Whether the addon loads; if not, says once that the node:net host stands in. */
function addonLoads(): boolean {
  try {
    loadAddon();
    return true;
  } catch (err) {
    if (!fallbackNoticeShown) {
      fallbackNoticeShown = true;
      const reason = (err as Error).message.replace(/^wasm-reactor: /, "");
      console.warn(`wasm-reactor: native epoll host unavailable (${reason}); using the node:net host`);
    }
    return false;
  }
}

/**
 * The backend asked for as it resolves on this machine: native where the addon loads
 * and net elsewhere when none is named; uring falls back to native (with one notice)
 * where io_uring is unavailable, and auto takes the best there is, silently.
 */
function chooseBackend(wanted: Backend | undefined): RunningBackend {
  if (wanted === "net" || wanted === "native") return wanted;
  if (wanted === "uring") {
    const why = uringUnavailable();
    if (!why) return "uring";
    if (!uringNoticeShown) {
      uringNoticeShown = true;
      console.warn(`wasm-reactor: io_uring unavailable (${why}); using the epoll host`);
    }
    return "native";
  }
  if (!addonLoads()) return "net";
  return wanted === "auto" && !uringUnavailable() ? "uring" : "native";
}

const errnoNames = new Map(Object.entries(constants.errno).map(([name, code]) => [code, name]));

/** A listen failure as node:net would word it: code, address, port, and a one-line message. */
function listenError(err: Error & { errno?: number; code?: string }, host: string, port: number): Error {
  const code = err.code ?? errnoNames.get(err.errno ?? 0) ?? "EUNKNOWN";
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const reason = code === "EADDRINUSE" ? "address already in use" : code === "EACCES" ? "permission denied" : err.message;
  return Object.assign(new Error(`listen ${code}: ${reason} ${where}`), { code, address: host, port });
}

/** What a `trap` listener learns besides the error. */
export interface TrapInfo {
  /** The flight recorder's trace of the batches before the trap, when `flightRecorder` is on. */
  flightRecording?: string;
  /**
   * With isolateTraps (the default), the connection whose input caused the trap: only it
   * was closed, every other one went on. Undefined when the instance was restarted.
   */
  connection?: number;
  /** With `connection`: how long the rollback took, in ms (restore, re-run, the batch again). */
  recoveryMs?: number;
}

/** The events of a Server. */
export interface ServerEvents {
  /** Every port is bound. */
  listening: () => void;
  /** close() has finished: every connection is closed. */
  close: () => void;
  /** listen() failed (the promise it returned rejects too). */
  error: (err: Error) => void;
  /** http: a request no in-module route answered; answer it with `res`, as with node:http. */
  request: (req: IncomingRequest, res: ServerResponse) => void;
  /** A host function (the calls option) threw or rejected; the module's call was answered ANSWER_FAILED. Without a listener, it is logged. */
  callError: (err: Error, call: HostCallInfo) => void;
  /** pubsub.redis is unreachable (said once per outage): publishes reach this server's subscribers only, until 'pubsubUp'. */
  pubsubDown: (err: Error) => void;
  /** pubsub.redis is reachable again: publishes cross servers again. */
  pubsubUp: () => void;
  /**
   * Publishes and broadcasts came faster than the module could fan them out, and it began
   * dropping new ones (once per congestion): more than 4 × maxBufferedAmount (at least 64 MiB) was queued.
   * Clients whose messages cause publishes are not read meanwhile, so this means JS
   * itself publishes too fast (a timer, say).
   */
  publishDropped: (queuedBytes: number) => void;
  /** http: a request listener threw or rejected (a non-Error is wrapped in one); the client got a 500. Without a listener, it is logged. */
  requestError: (err: Error) => void;
  /** ws: a WebSocket was opened; `req` is the upgrade request. */
  connection: (ws: WebSocket, req: IncomingRequest) => void;
  /**
   * The module trapped (a bug or fault in the sandbox). With `info.connection`, only that
   * connection was closed (rollback isolation); otherwise the instance's connections were
   * closed and a fresh instance took over.
   */
  trap: (err: Error, info: TrapInfo) => void;
}

/**
 * A server: one protocol on one or many ports, its handlers in the WebAssembly module,
 * on the native epoll host (or node:net). Made by {@link createServer}; its events are
 * {@link ServerEvents}.
 */
/**
 * How Server adds listeners: as its typed events say, and for 'request' also a listener
 * written for node:http (an Express app, Fastify's handler). Our own listener type comes
 * first, so an inline `(req, res) => …` is typed with ours.
 */
export interface AddServerListener<This> {
  (event: "request", listener: RequestListener): This;
  (event: "request", listener: NodeRequestListener): This;
  <K extends keyof ServerEvents>(event: K, listener: ServerEvents[K]): This;
}

export interface Server {
  on: AddServerListener<this>;
  once: AddServerListener<this>;
  addListener: AddServerListener<this>;
  prependListener: AddServerListener<this>;
}

export class Server extends typedEmitter<ServerEvents>() {
  /** The options it was created with, every default filled in. */
  readonly options: ResolvedOptions;
  private host: ReactorHost | undefined;
  private bound: AddressInfo[] = [];
  private state: State = "idle";
  /** The host serving this server, once listen() has chosen it ("auto" resolved). */
  backend: RunningBackend | undefined;
  private closed: Promise<void> | undefined;
  private recorder: Recorder | undefined;
  private pool: HandlerPool | undefined;
  private calls: HostCalls | undefined;
  private exchanges: HttpExchanges | undefined;
  private relay: RedisRelay | undefined;
  private readonly peers = new ConnectionPeers((listener) => this.bound[listener]);
  private readonly websockets: WebSocketRegistry;

  constructor(options: ServerOptions = {}) {
    super();
    this.options = resolveOptions(options);
    this.websockets = new WebSocketRegistry({
      inject: (op, conn, bytes) => this.host?.inject(op, conn, bytes),
      onConnection: (ws, req) => {
        if (this.pool) this.toWorkers(ws, req);
        this.emit("connection", ws, req);
      },
      subprotocols: () => this.options.subprotocols,
      peers: this.peers,
      verifyClient: this.options.verifyClient,
      onError: (err) => this.reportHandlerError(err),
      onPublishDropped: (queued) => {
        if (this.listenerCount("publishDropped") > 0) this.emit("publishDropped", queued);
        else console.warn(`wasm-reactor: publishes are being dropped: ${queued} bytes wait to be fanned out`);
      },
    });
  }

  /**
   * Starts listening on every configured port; resolves once all are bound. Takes the
   * port and host of the options unless given here, as node:net's listen() does:
   * `listen()`, `listen(port)`, `listen(port, host)`, `listen({ port, host })`, each
   * with an optional callback last, called once listening (the 'listening' event).
   * A failure rejects the promise, and is emitted as 'error' if there is a listener.
   */
  listen(callback?: () => void): Promise<this>;
  listen(port: number, callback?: () => void): Promise<this>;
  listen(port: number, host: string, callback?: () => void): Promise<this>;
  listen(options: { port?: number; host?: string }, callback?: () => void): Promise<this>;
  async listen(...args: unknown[]): Promise<this> {
    const { port, host, callback } = listenArguments(args, this.options);
    if (this.state !== "idle") throw new Error(`wasm-reactor: listen() called on a ${this.state} server`);
    this.checkListeners();
    if (callback) this.once("listening", callback);
    this.state = "starting";
    try {
      await this.bind(port, host);
    } catch (err) {
      this.state = "idle";
      if (callback) this.off("listening", callback);
      // The returned promise rejects; 'error' is for those who listen in node:net style.
      if (this.listenerCount("error") > 0) this.emit("error", err as Error);
      throw err;
    }
    this.state = "listening";
    this.emit("listening");
    return this;
  }

  /** Listeners for events this protocol never emits would wait forever: refuse them at listen(). */
  private checkListeners(): void {
    const { protocol, workers } = this.options;
    if (this.listenerCount("request") > 0 && !HTTP_PROTOCOLS.includes(protocol)) {
      throw new TypeError(`wasm-reactor: 'request' listeners need protocol "http" (or "ws", "ws-echo"), and this server's is "${protocol}": `
        + "createServer({ protocol: \"http\" }) or createServer((req, res) => …)");
    }
    if (this.listenerCount("request") > 0 && workers > 0) {
      throw new TypeError("wasm-reactor: with workers, the handler module answers requests; remove the 'request' listener");
    }
    if (this.listenerCount("connection") > 0 && protocol !== "ws") {
      throw new TypeError(`wasm-reactor: 'connection' listeners (WebSockets in JS) need protocol "ws", and this server's is "${protocol}": `
        + "createServer({ protocol: \"ws\" })");
    }
  }

  private async bind(port: number, host: string): Promise<void> {
    const address = isIP(host) ? host : (await lookup(host)).address;
    this.backend = chooseBackend(this.options.threads > 1 ? this.options.backend ?? "native" : this.options.backend);
    const uring = this.backend === "uring";
    const config: ModuleConfig = { protocol: this.options.protocol, moduleFile: this.options.module, eventCapacity: this.options.eventCapacity,
      arenaHalfBytes: uring ? Math.max(this.options.readBytesPerBatch, URING_ARENA_HALF_BYTES) : this.options.readBytesPerBatch,
      maxLineLength: this.options.maxLineLength,
      trapOnMagic: this.options.trapOnMagic, idleTimeoutMs: this.options.idleTimeout || undefined, maxMemoryBytes: this.options.maxMemory,
      isolateTraps: this.options.isolateTraps, cpuBudget: this.options.cpuBudget,
      callTimeoutMs: this.options.protocol === "module" ? this.options.callTimeout : undefined,
      limits: this.options.protocol === "module" ? moduleLimits(this.options) : undefined,
      http: HTTP_PROTOCOLS.includes(this.options.protocol) ? httpConfig(this.options, this.listenerCount("request") > 0) : undefined };
    // The flight recorder (if any) has written its file before the host reports a restart;
    // for a trap isolated to one connection, it writes it now (the batch is recorded by then).
    const onTrap = (err: Error, isolated?: { connection: number; recoveryMs: number }, thread?: number) => {
      const flight = this.recorder instanceof FlightRecorder ? this.recorder : undefined;
      if (!isolated) this.websockets.dropAll(thread); // they died with the instance (of that thread)
      const flightRecording = isolated ? flight?.dump() : flight?.written.at(-1);
      this.emit("trap", err, { flightRecording, ...isolated });
    };
    if (this.options.threads > 1 && config.http?.jsHandler) {
      throw new TypeError("wasm-reactor: threads run in-module protocols; a 'request' listener needs threads: 1");
    }
    const recorder = this.makeRecorder(config, this.backend);
    if (this.options.workers > 0) {
      const webSocket = this.options.protocol === "ws";
      this.pool = new HandlerPool({ handler: this.options.handler!, webSocket }, this.options.workers,
        (conn, piece) => this.host?.inject(EV.RESPONSE, conn, piece), (message) => this.reportHandlerError(message),
        (action) => this.workerAction(action));
      await this.pool.whenReady().catch(async (err: Error) => {
        await this.pool?.close();
        this.pool = undefined;
        throw new Error(`wasm-reactor: the request handler module could not be loaded: ${err.message}`);
      });
    }
    // Before anything listens: a relay that cannot start (no redis package) must leave nothing running.
    if (this.options.pubsub) await this.startRelay(this.options.pubsub).catch(async (err) => {
      await this.pool?.close();
      this.pool = undefined;
      throw err;
    });
    this.calls = this.options.calls && new HostCalls(this.options.calls, (op, conn, bytes) => this.host?.inject(op, conn, bytes),
      (err, call) => this.reportCallError(err, call));
    this.exchanges = config.http?.jsHandler === JS_HANDLER_STREAMED ? new HttpExchanges({
      inject: (op, conn, bytes) => this.host?.inject(op, conn, bytes),
      listeners: () => this.listeners("request") as RequestListener[],
      onError: (err) => this.reportHandlerError(err),
      peers: this.peers,
      maxBodySize: this.options.maxBodySize,
    }) : undefined;
    const toJs = config.http?.jsHandler || this.options.protocol === "ws" || this.calls
      ? (outbox: Buffer, thread?: number) => this.handle(outbox, thread) : undefined;
    const kernel = uring ? "uring" : "epoll";
    const reactor = this.options.threads > 1 ? new ThreadedHost(config, this.options.threads, onTrap, this.options.accept, toJs, kernel)
      : this.backend === "net" ? new NetHost(config, onTrap, recorder, toJs) : new NativeHost(config, onTrap, recorder, toJs, kernel);
    reactor.setMaxConnections(this.options.maxConnections);
    const family = isIP(address) === 6 ? "IPv6" : "IPv4";
    try {
      for (let i = 0; i < this.options.ports; i++) {
        const wanted = port === 0 ? 0 : port + i;
        let bound: number;
        try {
          bound = await reactor.listen({ host: address, port: wanted, backlog: this.options.backlog,
            reusePort: this.options.reusePort, ipv6Only: this.options.ipv6Only });
        } catch (err) {
          throw listenError(err as Error, address, wanted);
        }
        this.bound.push({ address, family, port: bound });
      }
    } catch (err) {
      reactor.destroy();
      await this.pool?.close();
      this.pool = undefined;
      await this.relay?.close();
      this.relay = undefined;
      this.websockets.topics.relay = undefined;
      if (recorder instanceof TraceWriter) recorder.end();
      this.bound = [];
      throw err;
    }
    this.host = reactor;
    this.recorder = recorder;
    reactor.start();
  }

  /** protocol ws with workers: a connection's events go to one worker, whose module's handlers answer through workerAction. */
  private toWorkers(ws: WebSocket, req: IncomingRequest): void {
    const conn = ws.connectionId;
    this.pool!.webSocketEvent({ ws: "open", conn, url: req.url ?? "/" });
    ws.on("message", (data, binary) => this.pool?.webSocketEvent({ ws: "message", conn, data, binary }));
    ws.on("close", (code) => this.pool?.webSocketEvent({ ws: "close", conn, code }));
  }

  /** What a worker's handler did to a WebSocket. */
  private workerAction(action: WebSocketAction): void {
    const ws = this.websockets.socket(action.conn);
    if (!ws) return; // it closed meanwhile
    try {
      if (action.ws === "send") ws.send(Buffer.from(action.data), { binary: action.binary });
      else if (action.ws === "publish") ws.publish(action.topic, Buffer.from(action.data), { binary: action.binary });
      else if (action.ws === "subscribe") ws.subscribe(action.topic);
      else ws.close(action.code, action.reason);
    } catch (err) {
      this.reportHandlerError(err); // a bad close code, a topic too long: the handler's mistake, the server's log
    }
  }

  private async startRelay(options: RedisPubSubOptions): Promise<void> {
    const where = options.redis.replace(/\/\/[^@/]*@/, "//"); // no password in what we print
    this.relay = await RedisRelay.start(options, {
      deliver: (topic, payload, binary) => this.websockets.topics.deliver(topic, payload, binary),
      down: (err) => {
        if (this.listenerCount("pubsubDown") > 0) this.emit("pubsubDown", err);
        else console.warn(`wasm-reactor: Redis at ${where} is unreachable (${err.message}); publishes reach this server's subscribers only until it is back`);
      },
      up: () => {
        if (this.listenerCount("pubsubUp") > 0) this.emit("pubsubUp");
        else console.warn(`wasm-reactor: Redis at ${where} is back; publishes reach every server again`);
      },
    });
    this.websockets.topics.relay = this.relay;
    for (const topic of this.websockets.topics.topics()) this.relay.topicAdded(topic);
  }

  /** What the module passed to JS: requests for the 'request' listeners (or the pool), WebSocket events, host calls. */
  private handle(outbox: Buffer, thread = 0): void {
    deliverOutbox(outbox, { peers: this.peers, http: this.exchanges, pool: this.pool && ((request) => this.pool!.dispatch(request)), websockets: this.websockets,
      calls: this.calls }, thread);
  }

  /** A host function threw: the module was answered ANSWER_FAILED; the error is the application's to log. */
  private reportCallError(err: Error, call: HostCallInfo): void {
    if (this.listenerCount("callError") > 0) this.emit("callError", err, call);
    else console.error(`wasm-reactor: host function ${call.name} failed: ${err.stack ?? err}`);
  }

  /** A handler's error was answered with a 500; it is the application's to log. */
  private reportHandlerError(thrown: unknown): void {
    const err = thrown instanceof Error ? thrown : new Error(String(thrown));
    if (this.listenerCount("requestError") > 0) this.emit("requestError", err);
    else console.error(`wasm-reactor: request handler failed: ${err.stack ?? err}`);
  }

  /** Sends one message to every open WebSocket (protocol ws), framed once in the module. */
  broadcast(data: WebSocketData, options: { binary?: boolean } = {}): void {
    this.needsWebSocketModule("broadcast");
    this.websockets.broadcast(data, options.binary);
  }

  /**
   * Publishes a message to a topic's subscribers (ws.subscribe(), or the SDK's subscribe in
   * your module): framed once in the module and sent to each, in publish order. Protocols
   * ws, ws-echo and module (a module on the SDK's WebSocket level).
   */
  publish(topic: string, data: WebSocketData, options: { binary?: boolean } = {}): void {
    this.needsWebSocketModule("publish");
    this.websockets.publish(topic, data, options.binary);
  }

  private needsWebSocketModule(method: string): void {
    if (!["ws", "ws-echo", "module"].includes(this.options.protocol)) {
      throw new Error(`wasm-reactor: ${method}() needs protocol "ws" (or "ws-echo", "module"), and this server's is "${this.options.protocol}"`);
    }
  }

  /** How many open WebSockets subscribe to the topic through JS (ws.subscribe) in this server. */
  subscriberCount(topic: string): number {
    return this.websockets.topics.count(topic);
  }

  /** The open WebSockets (protocol ws), as the `ws` package's server.clients: a live Set. */
  get clients(): Set<WebSocket> {
    return this.websockets.clients;
  }

  private makeRecorder(config: ModuleConfig, host: RunningBackend): Recorder | undefined {
    const header = { ...config, module: moduleDigest(config), host, recordedAt: new Date().toISOString() };
    if (this.options.record !== undefined) return new TraceWriter(this.options.record, header);
    const flight = this.options.flightRecorder;
    return flight && new FlightRecorder(flight.path, flight.batches ?? 1000, header);
  }

  /** The first listening address, as node:net's server.address(); null when not listening. */
  address(): AddressInfo | null {
    return this.bound[0] ?? null;
  }

  /** Every listening address, in port order. */
  addresses(): AddressInfo[] {
    return [...this.bound];
  }

  /** True from the 'listening' event until close() starts. */
  get listening(): boolean {
    return this.state === "listening";
  }

  /**
   * Graceful close: stop accepting, let every connection flush its output, then close
   * them; connections still open after `closeTimeout` ms are closed regardless. Takes a
   * callback too, as node:net's close() does (frameworks such as Fastify pass one).
   */
  close(callback?: (err?: Error) => void): Promise<void> {
    const closing = this.closeOnce();
    if (callback) closing.then(() => callback(), callback);
    return closing;
  }

  private closeOnce(): Promise<void> {
    this.closed ??= (async () => {
      this.state = "closing";
      await this.host?.close(this.options.closeTimeout);
      await this.pool?.close();
      await this.relay?.close();
      if (this.recorder instanceof TraceWriter) this.recorder.end(); // the trace is complete from here on
      this.state = "closed";
      this.bound = [];
      this.emit("close");
    })();
    return this.closed;
  }

  /** With threads: each sub-reactor's counters (how connections spread); one entry otherwise. */
  threadStats(): ServerStats[] {
    if (!(this.host instanceof ThreadedHost)) return [this.stats()];
    return this.host.perThread().map((s) => ({ ...s, moduleMemoryLimitBytes: this.options.maxMemory }));
  }

  stats(): ServerStats {
    if (!this.host) {
      return { connections: 0, accepted: 0, bytesIn: 0, bytesOut: 0, batches: 0, events: 0, shed: 0, largestBatch: 0, receives: 0, starved: 0,
        traps: 0, moduleMemoryBytes: 0, moduleMemoryInUseBytes: 0, connectionMemoryBytes: 0, moduleMemoryLimitBytes: this.options.maxMemory };
    }
    return { ...this.host.stats(), moduleMemoryLimitBytes: this.options.maxMemory };
  }
}

/** node:net-style listen() arguments, with the options' port and host where none are given. */
function listenArguments(args: unknown[], options: ResolvedOptions): { port: number; host: string; callback?: () => void } {
  const callback = typeof args.at(-1) === "function" ? args.pop() as () => void : undefined;
  let [port, host] = args as [unknown, unknown];
  if (typeof port === "object" && port !== null) ({ port, host } = port as { port?: number; host?: string });
  if (typeof port === "string" && /^\d+$/.test(port)) port = Number(port); // node:net takes "8080" too
  port ??= options.port;
  host ??= options.host;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`wasm-reactor: listen() takes a port from 0 to 65535, got ${String(port)}`);
  }
  if (typeof host !== "string") throw new TypeError(`wasm-reactor: listen() takes a host string, got ${typeof host}`);
  return { port, host, callback };
}

/**
 * A server, not yet listening: call listen(). With a request listener, as node:http's
 * createServer takes one, the protocol is HTTP and the listener answers every request
 * no in-module route answers.
 */
export function createServer(options?: ServerOptions, requestListener?: RequestListener): Server;
export function createServer(requestListener: RequestListener): Server;
export function createServer(options: ServerOptions | undefined, requestListener: NodeRequestListener): Server;
export function createServer(requestListener: NodeRequestListener): Server;
export function createServer(optionsOrListener?: ServerOptions | RequestListener | NodeRequestListener,
  requestListener?: RequestListener | NodeRequestListener): Server {
  const listener = typeof optionsOrListener === "function" ? optionsOrListener : requestListener;
  const options = typeof optionsOrListener === "function" ? {} : optionsOrListener ?? {};
  if (optionsOrListener !== undefined && typeof optionsOrListener !== "object" && typeof optionsOrListener !== "function") {
    throw new TypeError(`wasm-reactor: createServer() takes options, a request listener, or both; got ${typeof optionsOrListener}`);
  }
  const server = new Server(listener && options.protocol === undefined ? { ...options, protocol: "http" } : options);
  if (listener) server.on("request", listener as RequestListener);
  return server;
}
