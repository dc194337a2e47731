// wasm-reactor/testing: the simulator as a library, for the tests of a handler module
// (yours, or a built-in protocol). Virtual clients on a seeded virtual network with the
// simulator's faults (reads split and glued, short sends, slow readers, delays) and a
// virtual clock: the same seed gives the same run, byte for byte, so a failing test
// names its seed and reproduces.
//
//   import { simulateModule } from "wasm-reactor/testing";
//   const net = simulateModule({ module: "upper.wasm", seed: 7, faults: "all" });
//   const client = net.connect();
//   client.write("abc");
//   client.end();
//   net.run();
//   client.text();   // what the module answered, however the bytes were cut in transit
//
// JavaScript handlers run there too: `onRequest` (protocol "http" or "ws") answers the
// requests no route answers, as a 'request' listener does; `onWebSocket` (protocol "ws")
// gets each WebSocket, as the 'connection' event does.
import path from "node:path";
import { EV } from "../host/door.js";
import { HTTP_PROTOCOLS, type Protocol } from "../host/module.js";
import { replayTrace } from "../host/replay.js";
import { ScriptedNetwork, type Faults } from "../host/sim.js";
import { HttpExchanges, type IncomingRequest, type RequestListener, type ServerResponse } from "./http.js";
import { httpConfig, moduleLimits, resolveOptions, type ServerOptions } from "./options.js";
import { HostCalls } from "./calls.js";
import { deliverOutbox } from "./outbox.js";
import { ConnectionPeers } from "./peers.js";
import { parseFaults } from "./simulate.js";
import { WebSocketRegistry, type WebSocket } from "./websocket.js";

export type { Faults };
export { webSocketFrame, webSocketMessages, webSocketUpgrade, type WebSocketMessage } from "./testing-websocket.js";

/** Where a replay first differed from the recording. */
export interface Divergence {
  /** The batch (1-based) whose output differed. */
  batch: number;
  /** The connection id (slot in the low 20 bits, generation above). */
  connection: number;
  /** The byte offset in that connection's output, when the difference is in its bytes. */
  byteOffset: number | undefined;
  /** What differed, in words. */
  detail: string;
}

/** What replaying a trace found. */
export interface ReplayOutcome {
  /** Batches replayed. */
  batches: number;
  /** Whether the module replayed is the build the trace was recorded with. */
  moduleMatches: boolean;
  /** The traps reproduced, by message. */
  traps: string[];
  /** The first difference, or undefined when every output matches. */
  divergence: Divergence | undefined;
}

export interface SimulationOptions {
  /** Your module (a .wasm built with `wasm-reactor build`); or name a built-in `protocol`. */
  module?: string;
  /** A built-in protocol instead of a module (default "echo" when there is no module). */
  protocol?: Exclude<Protocol, "module">;
  /** The seed: the same seed, the same run (default 1). */
  seed?: number;
  /**
   * Faults of the virtual network: "none" (default), "all" (every fault at the simulate
   * command's rates), or probabilities by name, e.g. { split: 0.5, shortSend: 0.3 }.
   */
  faults?: "none" | "all" | Partial<Faults>;
  /** Options of the server, as createServer takes them (idleTimeout, maxLineLength, HTTP limits, routes …). */
  options?: ServerOptions;
  /** Protocol "http" or "ws": answers the requests no route answers, as a 'request' listener would. */
  onRequest?: RequestListener;
  /** Protocol "ws": each WebSocket once its handshake is done, as the 'connection' event would give it. */
  onWebSocket?: (ws: WebSocket, req: IncomingRequest) => void;
}

/** How long settle() waits (in real time) for a request handler that has not answered. */
const HANDLER_WAIT_MS = 10_000;

/** A client of the virtual network. */
export class VirtualClient {
  /** @internal */
  constructor(private readonly network: ScriptedNetwork, private readonly index: number) {}

  /** Sends bytes (a string as UTF-8); they reach the module as the network's faults cut them. */
  write(data: string | Uint8Array): this {
    this.network.write(this.index, typeof data === "string" ? Buffer.from(data) : data);
    return this;
  }

  /** Half-closes: the module sees the end of this client's input once it has everything before it. */
  end(): this {
    this.network.end(this.index);
    return this;
  }

  /** Everything the module sent this client so far. */
  received(): Buffer {
    return this.network.received(this.index);
  }

  /** received(), as UTF-8 text. */
  text(): string {
    return this.received().toString("utf8");
  }

  /** Whether the module closed the connection. */
  get closed(): boolean {
    return this.network.closedByServer(this.index);
  }
}

/** A seeded virtual network running one module instance. */
export class VirtualNetwork {
  private readonly network: ScriptedNetwork;
  /** Responses of the JS request handler not ended yet. */
  private readonly unanswered = new Set<ServerResponse>();
  /** What JS request handlers and host functions threw (a request was answered with a 500, a call ANSWER_FAILED). */
  readonly errors: Error[] = [];

  /** @internal */
  constructor(readonly seed: number, network: ScriptedNetwork, private readonly calls?: HostCalls,
    private readonly verdictsPending: () => number = () => 0) {
    this.network = network;
  }

  /** @internal a request for the JS handler. */
  trackResponse(res: ServerResponse): void {
    if (res.writableEnded) return;
    this.unanswered.add(res);
    res.once("finish", () => this.unanswered.delete(res));
    res.once("close", () => this.unanswered.delete(res));
  }

  /** Opens a connection to the module. */
  connect(): VirtualClient {
    return new VirtualClient(this.network, this.network.openClient());
  }

  /**
   * The traps that cost one connection each (isolateTraps, the default), in order: what
   * the module threw, and the connection closed in its place. A trap that cannot be
   * isolated is thrown by run() instead.
   */
  get traps(): { error: Error; connection: number }[] {
    return this.network.isolatedTraps;
  }

  /**
   * Runs until every byte is delivered and the module has nothing more to say. JS
   * handlers that answer at once are answered within it; for ones that await something
   * first, use settle().
   */
  run(): void {
    this.network.settle();
  }

  /**
   * run(), then waits for JS handlers that answer later (after an await) and runs again,
   * until every request is answered (and every upgrade verifyClient has is decided) and nothing is left to deliver. Virtual time does not
   * move while it waits. Rejects if a handler has not answered after 10 s of real time.
   */
  async settle(): Promise<void> {
    const giveUp = Date.now() + HANDLER_WAIT_MS;
    for (;;) {
      this.network.settle();
      const waiting = this.unanswered.size + (this.calls?.pending ?? 0) + this.verdictsPending();
      if (waiting === 0 && !this.network.injecting) return;
      if (Date.now() > giveUp) throw new Error(`${waiting} request(s) or host call(s) still unanswered after ${HANDLER_WAIT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, this.network.injecting ? 0 : 1));
    }
  }

  /** Moves the virtual clock on by `ms` (timeouts fire), then runs. */
  advance(ms: number): void {
    this.network.elapse(ms);
  }
}

/** Starts a module (or a built-in protocol) on a virtual network. */
export function simulateModule(options: SimulationOptions): VirtualNetwork {
  const seed = options.seed ?? 1;
  const server = resolveOptions(options.module === undefined
    ? { protocol: options.protocol ?? "echo", ...options.options }
    : { ...options.options, module: path.resolve(options.module) });
  const faults = typeof options.faults === "object" ? { ...parseFaults("none"), ...options.faults } : parseFaults(options.faults);
  if (options.onRequest && !HTTP_PROTOCOLS.includes(server.protocol)) {
    throw new TypeError(`wasm-reactor: onRequest needs protocol "http" or "ws", not "${server.protocol}"`);
  }
  if (options.onWebSocket && server.protocol !== "ws") {
    throw new TypeError(`wasm-reactor: onWebSocket needs protocol "ws", not "${server.protocol}"`);
  }
  let virtual: VirtualNetwork | undefined;
  const inject = (op: number, conn: number, bytes: Uint8Array) => network.inject(op, conn, bytes);
  const peers = new ConnectionPeers(() => ({ address: "127.0.0.1", family: "IPv4", port: server.port || 80 }));
  const websockets = new WebSocketRegistry({ inject, onConnection: (ws, req) => options.onWebSocket?.(ws, req), subprotocols: () => server.subprotocols,
    peers, verifyClient: server.verifyClient, onError: (err) => virtual!.errors.push(err instanceof Error ? err : new Error(String(err))) });
  const listeners = options.onRequest ? [options.onRequest] : [];
  const calls = server.calls && new HostCalls(server.calls, inject, (err) => virtual!.errors.push(err));
  const http = new HttpExchanges({
    inject, listeners: () => listeners, maxBodySize: server.maxBodySize,
    onError: (err) => virtual!.errors.push(err instanceof Error ? err : new Error(String(err))),
    peers,
    onResponse: (res) => virtual!.trackResponse(res),
  });
  const toJs = (outbox: Buffer) => deliverOutbox(outbox, { peers, http, websockets, calls });
  const network = new ScriptedNetwork({
    protocol: server.protocol, moduleFile: server.module, seed, faults, connections: 0, active: 0, messagesPerClient: 0,
    maxMessageBytes: 1, maxLineLength: server.maxLineLength, idleTimeoutMs: server.idleTimeout || undefined,
    http: HTTP_PROTOCOLS.includes(server.protocol) ? httpConfig(server, options.onRequest !== undefined) : undefined,
    limits: server.protocol === "module" ? moduleLimits(server) : undefined, maxMemoryBytes: server.maxMemory,
    isolateTraps: server.isolateTraps, trapOnMagic: server.trapOnMagic, cpuBudget: server.cpuBudget,
    callTimeoutMs: server.protocol === "module" ? server.callTimeout : undefined,
  }, toJs);
  virtual = new VirtualNetwork(seed, network, calls, () => websockets.verifying);
  return virtual;
}

/**
 * Replays a recorded trace (the record option, or --record) against its module, or
 * against `module` (a new build): `divergence` names the first difference by batch,
 * connection and byte; undefined when every output matches.
 */
export function replayAgainst(trace: string, module?: string): ReplayOutcome {
  const { batches, moduleMatches, traps, divergence } = replayTrace(trace, module === undefined ? undefined : path.resolve(module));
  return { batches, moduleMatches, traps, divergence: divergence && { batch: divergence.batch, connection: divergence.connection,
    byteOffset: divergence.byteOffset, detail: divergence.detail } };
}
