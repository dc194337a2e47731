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
import path from "node:path";
import { HTTP_PROTOCOLS, type Protocol } from "../host/module.js";
import { replayTrace } from "../host/replay.js";
import { ScriptedNetwork, type Faults } from "../host/sim.js";
import { httpConfig, resolveOptions, type ServerOptions } from "./options.js";
import { parseFaults } from "./simulate.js";

export type { Faults };

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
}

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

  /** @internal */
  constructor(readonly seed: number, network: ScriptedNetwork) {
    this.network = network;
  }

  /** Opens a connection to the module. */
  connect(): VirtualClient {
    return new VirtualClient(this.network, this.network.openClient());
  }

  /** Runs until every byte is delivered and the module has nothing more to say. */
  run(): void {
    this.network.settle();
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
  const network = new ScriptedNetwork({
    protocol: server.protocol, moduleFile: server.module, seed, faults, connections: 0, active: 0, messagesPerClient: 0,
    maxMessageBytes: 1, maxLineLength: server.maxLineLength, idleTimeoutMs: server.idleTimeout || undefined,
    http: HTTP_PROTOCOLS.includes(server.protocol) ? httpConfig(server, false) : undefined,
  });
  return new VirtualNetwork(seed, network);
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
