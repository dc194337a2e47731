// The public server: node:net-like lifecycle (listen, address, close, events)
// around one reactor host.
import { lookup } from "node:dns/promises";
import { EventEmitter } from "node:events";
import { isIP } from "node:net";
import { constants } from "node:os";
import { loadAddon } from "../host/addon.js";
import type { HostStats, ReactorHost } from "../host/host.js";
import { HTTP_PROTOCOLS, type ModuleConfig } from "../host/module.js";
import { NativeHost } from "../host/native.js";
import { NetHost } from "../host/net.js";
import { ThreadedHost } from "../host/threads.js";
import { FlightRecorder, moduleDigest, TraceWriter, type Recorder } from "../host/trace.js";
import { EV, forEachOutboxEntry, OUT } from "../host/door.js";
import { WebSocketRegistry, type WebSocketData } from "./websocket.js";
import { HandlerPool } from "./handler-pool.js";
import { handleRequest, type RequestListener } from "./http.js";
import { httpConfig, resolveOptions, type Backend, type ResolvedOptions, type ServerOptions } from "./options.js";

export interface AddressInfo {
  address: string;
  family: "IPv4" | "IPv6";
  port: number;
}

export type ServerStats = HostStats;

type State = "idle" | "starting" | "listening" | "closing" | "closed";

let fallbackNoticeShown = false;

/** The backend asked for, or native where the addon loads and net elsewhere. */
function chooseBackend(wanted: Backend | undefined): Backend {
  if (wanted) return wanted;
  try {
    loadAddon();
    return "native";
  } catch (err) {
    if (!fallbackNoticeShown) {
      fallbackNoticeShown = true;
      const reason = (err as Error).message.replace(/^wasm-reactor: /, "");
      console.warn(`wasm-reactor: native epoll host unavailable (${reason}); using the node:net host`);
    }
    return "net";
  }
}

const errnoNames = new Map(Object.entries(constants.errno).map(([name, code]) => [code, name]));

/** A listen failure as node:net would word it: code, address, port, and a one-line message. */
function listenError(err: Error & { errno?: number; code?: string }, host: string, port: number): Error {
  const code = err.code ?? errnoNames.get(err.errno ?? 0) ?? "EUNKNOWN";
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const reason = code === "EADDRINUSE" ? "address already in use" : code === "EACCES" ? "permission denied" : err.message;
  return Object.assign(new Error(`listen ${code}: ${reason} ${where}`), { code, address: host, port });
}

export class Server extends EventEmitter {
  readonly options: ResolvedOptions;
  private host: ReactorHost | undefined;
  private bound: AddressInfo[] = [];
  private state: State = "idle";
  /** The host serving this server, once listen() has chosen it. */
  backend: Backend | undefined;
  private closed: Promise<void> | undefined;
  private recorder: Recorder | undefined;
  private pool: HandlerPool | undefined;
  private readonly websockets = new WebSocketRegistry((op, conn, bytes) => this.host?.inject(op, conn, bytes),
    (ws, req) => this.emit("connection", ws, req), () => this.options.subprotocols);

  constructor(options: ServerOptions = {}) {
    super();
    this.options = resolveOptions(options);
  }

  /** Starts listening on every configured port; resolves once all are bound. */
  async listen(port = this.options.port, host = this.options.host): Promise<this> {
    if (this.state !== "idle") throw new Error(`wasm-reactor: listen() called on a ${this.state} server`);
    this.state = "starting";
    try {
      await this.bind(port, host);
    } catch (err) {
      this.state = "idle";
      // The returned promise rejects; 'error' is for those who listen in node:net style.
      if (this.listenerCount("error") > 0) this.emit("error", err);
      throw err;
    }
    this.state = "listening";
    this.emit("listening");
    return this;
  }

  private async bind(port: number, host: string): Promise<void> {
    const address = isIP(host) ? host : (await lookup(host)).address;
    const config: ModuleConfig = { protocol: this.options.protocol, eventCapacity: this.options.eventCapacity,
      arenaHalfBytes: this.options.readBytesPerBatch, maxLineLength: this.options.maxLineLength,
      trapOnMagic: this.options.trapOnMagic, idleTimeoutMs: this.options.idleTimeout || undefined,
      http: HTTP_PROTOCOLS.includes(this.options.protocol) ? httpConfig(this.options, this.listenerCount("request") > 0) : undefined };
    // The flight recorder (if any) has written its file before the host reports the trap.
    const onTrap = (err: Error) => {
      this.websockets.dropAll(); // they died with the instance
      this.emit("trap", err,
        { flightRecording: this.recorder instanceof FlightRecorder ? this.recorder.written.at(-1) : undefined });
    };
    this.backend = this.options.threads > 1 ? "native" : chooseBackend(this.options.backend);
    if (this.options.threads > 1 && config.http?.jsHandler) {
      throw new TypeError("wasm-reactor: threads run in-module protocols; a 'request' listener needs threads: 1");
    }
    const recorder = this.makeRecorder(config, this.backend);
    if (this.options.workers > 0) {
      this.pool = new HandlerPool({ handler: this.options.handler! }, this.options.workers,
        (conn, piece) => this.host?.inject(EV.RESPONSE, conn, piece), (message) => this.reportHandlerError(message));
      await this.pool.whenReady().catch(async (err: Error) => {
        await this.pool?.close();
        this.pool = undefined;
        throw new Error(`wasm-reactor: the request handler module could not be loaded: ${err.message}`);
      });
    }
    const toJs = config.http?.jsHandler || this.options.protocol === "ws" ? (outbox: Buffer) => this.handle(outbox) : undefined;
    const reactor = this.options.threads > 1 ? new ThreadedHost(config, this.options.threads, onTrap, this.options.accept)
      : this.backend === "native" ? new NativeHost(config, onTrap, recorder, toJs) : new NetHost(config, onTrap, recorder, toJs);
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
      if (recorder instanceof TraceWriter) recorder.end();
      this.bound = [];
      throw err;
    }
    this.host = reactor;
    this.recorder = recorder;
    reactor.start();
  }

  /** What the module passed to JS: requests for the 'request' listeners (or the pool), WebSocket events. */
  private handle(outbox: Buffer): void {
    const listeners = this.listeners("request") as RequestListener[];
    forEachOutboxEntry(outbox, (kind, conn, payload) => {
      if (kind !== OUT.HTTP_REQUEST) return this.websockets.entry(kind, conn, payload);
      const request = { conn, descriptor: payload };
      if (this.pool) this.pool.dispatch(request);
      else handleRequest(listeners, request, (c, piece) => this.host?.inject(EV.RESPONSE, c, piece), (err) => this.reportHandlerError(err));
    });
  }

  /** A handler's error was answered with a 500; it is the application's to log. */
  private reportHandlerError(err: unknown): void {
    if (this.listenerCount("requestError") > 0) this.emit("requestError", err);
    else console.error(`wasm-reactor: request handler failed: ${(err as Error)?.stack ?? err}`);
  }

  /** Sends one message to every open WebSocket (protocol ws), framed once in the module. */
  broadcast(data: WebSocketData, options: { binary?: boolean } = {}): void {
    if (this.options.protocol !== "ws") throw new Error("wasm-reactor: broadcast() needs protocol \"ws\"");
    this.websockets.broadcast(data, options.binary);
  }

  /** Open WebSockets (protocol ws). */
  get clients(): number {
    return this.websockets.size;
  }

  private makeRecorder(config: ModuleConfig, host: Backend): Recorder | undefined {
    const header = { ...config, module: moduleDigest(), host, recordedAt: new Date().toISOString() };
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

  get listening(): boolean {
    return this.state === "listening";
  }

  /**
   * Graceful close: stop accepting, let every connection flush its output, then close
   * them; connections still open after `closeTimeout` ms are closed regardless.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.state = "closing";
      await this.host?.close(this.options.closeTimeout);
      await this.pool?.close();
      if (this.recorder instanceof TraceWriter) this.recorder.end(); // the trace is complete from here on
      this.state = "closed";
      this.bound = [];
      this.emit("close");
    })();
    return this.closed;
  }

  /** With threads: each sub-reactor's counters (how connections spread); one entry otherwise. */
  threadStats(): ServerStats[] {
    return this.host instanceof ThreadedHost ? this.host.perThread() : [this.stats()];
  }

  stats(): ServerStats {
    if (!this.host) {
      return { connections: 0, accepted: 0, bytesIn: 0, bytesOut: 0, batches: 0, events: 0, shed: 0, largestBatch: 0,
        traps: 0, moduleMemoryBytes: 0, connectionMemoryBytes: 0 };
    }
    return this.host.stats();
  }
}

export function createServer(options: ServerOptions = {}): Server {
  return new Server(options);
}
