// The native addon (native/), loaded once: the prebuilt binary for this platform
// (prebuilds/) or a local build (build/Release), as node-gyp-build finds them.
// WASM_REACTOR_ADDON_PATH names a .node file to load instead (a packager's own build).
import { createRequire } from "node:module";
import { root } from "./paths.js";

export interface ListenResult {
  index: number;
  port: number;
}

export interface NativeStats {
  connections: number;
  accepted: number;
  bytesIn: number;
  bytesOut: number;
  batches: number;
  events: number;
  shed: number;
  /** The most events one dispatch received. */
  largestBatch: number;
  /** Reads that brought bytes: recv calls on epoll, receive completions on io_uring (bytesIn / receives is the bytes per read). */
  receives: number;
  /** io_uring: receives that found no free buffer and were armed again later (0 on epoll). */
  starved: number;
}

export interface NativeReactor {
  attach(memory: WebAssembly.Memory, dispatch: (n: number) => number, header: number, onFailure: (err: Error) => void): void;
  listen(host: string, port: number, backlog: number, reusePort: boolean, ipv6Only: boolean): ListenResult;
  /** Queues an event (op, conn) whose bytes go into the arena of the next batch. */
  inject(op: number, conn: number, bytes: Uint8Array): void;
  /** Past this many open connections, new ones are closed at once (0: no limit). */
  setMaxConnections(max: number): void;
  /** How an Acceptor on another thread names this reactor's demultiplexer. */
  registryId(): number;
  start(): void;
  shutdown(onDrained: () => void): void;
  dropConnections(): void;
  destroy(): void;
  stats(): NativeStats;
}

/** The main reactor of the handoff accept mode: accepts and hands fds to sub-reactors by registry id. */
export interface NativeAcceptor {
  listen(host: string, port: number, backlog: number, reusePort: boolean, ipv6Only: boolean): number;
  close(): void;
  stats(): { handedOff: number; shed: number };
}

/** The kernel interface a native reactor drives: epoll readiness or io_uring completions. */
export type NativeKernel = "epoll" | "uring";

interface Addon {
  Reactor: new (kernel?: NativeKernel) => NativeReactor;
  /** "" where the io_uring host can run here, else the first refusal met (a functional probe). */
  uringSupport(): string;
  Acceptor: new (subReactors: number[]) => NativeAcceptor;
}

let addon: Addon | undefined;

export function loadAddon(): Addon {
  if (!addon) {
    try {
      const require = createRequire(import.meta.url);
      const override = process.env.WASM_REACTOR_ADDON_PATH;
      addon = (override ? require(override) : require("node-gyp-build")(root)) as Addon;
    } catch (err) {
      // Only the first line: require() appends its whole require stack.
      const reason = (err as Error).message.split("\n")[0];
      throw new Error(`wasm-reactor: cannot load the native addon (${reason})`);
    }
  }
  return addon;
}

let uringProbe: string | undefined;

/**
 * Why the io_uring host cannot run here ("" if it can): the kernel's refusal, or
 * WASM_REACTOR_IO_URING=0 (the switch that forces the epoll fallback, for tests and
 * for machines where io_uring is allowed but unwanted). Probed once per process.
 */
export function uringUnavailable(): string {
  const env = process.env.WASM_REACTOR_IO_URING;
  if (env !== undefined && ["0", "off", "false", "no"].includes(env.toLowerCase())) return `disabled by WASM_REACTOR_IO_URING=${env}`;
  uringProbe ??= loadAddon().uringSupport();
  return uringProbe;
}
