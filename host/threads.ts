// Main–sub reactors: N worker threads, each a sub-reactor with its own epoll instance
// and its own module instance (a NativeHost). Two ways to share the connections:
// - "reuseport": every thread listens on the ports with SO_REUSEPORT and the kernel
//   spreads new connections; the main thread only starts, stops and counts;
// - "handoff": the main thread is the main reactor: it listens and accepts (a native
//   Acceptor in its event loop) and hands each fd to a sub-reactor in turn, waking it
//   through its eventfd.
// Either way a connection lives on one sub-reactor for its whole life.
//
// JS handlers (protocol ws) run in the main thread: each sub-reactor posts its module's
// outbox here, and what JS sends goes back to the thread that owns the connection. JS
// tells the threads' connections apart by a global id, thread × 2³² + the module's conn
// id; conn 0 (a broadcast, a publish) goes to every thread.
import type { Worker } from "node:worker_threads";
import { closeWithin, type HostStats, type ListenSpec, type OutboxSink, type ReactorHost, type TrapReport } from "./host.js";
import { loadAddon, type NativeAcceptor, type NativeKernel } from "./addon.js";
import type { ModuleConfig } from "./module.js";
import { startWorker } from "./worker-script.js";

/** The HostStats fields, in the order each thread writes them into the shared counters. */
export const STAT_FIELDS = ["connections", "accepted", "bytesIn", "bytesOut", "batches", "events", "shed", "largestBatch",
  "receives", "starved", "traps", "moduleMemoryBytes", "moduleMemoryInUseBytes", "connectionMemoryBytes"] as const;

export interface ThreadInit {
  config: ModuleConfig;
  index: number;
  stats: SharedArrayBuffer;
  /** Whether JS listens: the thread posts its module's outboxes to the main thread. */
  toJs: boolean;
  kernel: NativeKernel;
}

const THREAD_SPAN = 2 ** 32;
/** JS's id for a connection of a thread's module. */
export const globalConn = (thread: number, conn: number): number => thread * THREAD_SPAN + conn;
/** [thread, the module's conn id] of a global id. */
export const localConn = (id: number): [number, number] => [Math.floor(id / THREAD_SPAN), id % THREAD_SPAN];

/** Events JS injects, batched per thread and posted once per turn of the event loop. */
export type Injection = [op: number, conn: number, bytes: Uint8Array];

type Reply = { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: { message: string; code?: string; errno?: number } };
export type ThreadMessage = { kind: "trap"; message: string; isolated?: { connection: number; recoveryMs: number } }
  | { kind: "outbox"; outbox: Uint8Array } | Reply;


class Thread {
  readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private injections: Injection[] = [];

  constructor(init: ThreadInit, onTrap: TrapReport, onOutbox?: OutboxSink) {
    this.worker = startWorker(new URL("./reactor-thread.js", import.meta.url), init);
    this.worker.on("message", (m: ThreadMessage) => {
      if ("kind" in m && m.kind === "outbox") return onOutbox?.(Buffer.from(m.outbox.buffer, m.outbox.byteOffset, m.outbox.byteLength), init.index);
      if ("kind" in m) return onTrap(new Error(m.message), m.isolated, init.index);
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.ok) p?.resolve(m.value);
      else p?.reject(Object.assign(new Error(m.error.message), m.error));
    });
    this.worker.on("error", (err: Error) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  /** An event for this thread's module; posted with the others of this turn. */
  inject(op: number, conn: number, bytes: Uint8Array): void {
    if (this.injections.length === 0) queueMicrotask(() => this.flushInjections());
    this.injections.push([op, conn, bytes]);
  }

  private flushInjections(): void {
    const batch = this.injections;
    this.injections = [];
    this.worker.postMessage({ inject: batch });
  }

  call(method: string, ...args: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, method, args });
    });
  }
}

export type AcceptMode = "reuseport" | "handoff";

/** A sub-reactor's module knows which it is (for publishes that skip one connection). */
function forThread(config: ModuleConfig, index: number): ModuleConfig {
  return config.http ? { ...config, http: { ...config.http, threadIndex: index } } : config;
}

export class ThreadedHost implements ReactorHost {
  private readonly threads: Thread[];
  private readonly counters: Float64Array;
  private closing: Promise<void> | undefined;
  private acceptor: NativeAcceptor | undefined;

  constructor(config: ModuleConfig, count: number, onTrap: TrapReport, private readonly accept: AcceptMode = "reuseport",
    onOutbox?: OutboxSink, kernel: NativeKernel = "epoll") {
    const stats = new SharedArrayBuffer(count * STAT_FIELDS.length * 8);
    this.counters = new Float64Array(stats);
    this.threads = Array.from({ length: count }, (_, index) => new Thread({ config: forThread(config, index), index, stats,
      toJs: onOutbox !== undefined, kernel }, onTrap, onOutbox));
  }

  /**
   * reuseport: thread 0 binds first (choosing the port when it is 0); the others join it
   * with SO_REUSEPORT. handoff: the main thread's acceptor binds.
   */
  async listen(spec: ListenSpec): Promise<number> {
    if (this.accept === "handoff") {
      if (!this.acceptor) {
        const ids = (await Promise.all(this.threads.map((t) => t.call("registryId")))) as number[];
        this.acceptor = new (loadAddon().Acceptor)(ids);
      }
      return this.acceptor.listen(spec.host, spec.port, spec.backlog, spec.reusePort, spec.ipv6Only);
    }
    const shared = { ...spec, reusePort: true };
    const port = (await this.threads[0].call("listen", shared)) as number;
    await Promise.all(this.threads.slice(1).map((t) => t.call("listen", { ...shared, port })));
    return port;
  }

  start(): void {
    for (const t of this.threads) void t.call("start");
  }

  close(timeoutMs: number): Promise<void> {
    this.acceptor?.close(); // no new connections for anyone from here on
    this.closing ??= closeWithin(timeoutMs + 1000, (done) => {
      // Each thread drains its connections, then ends; close() returns once all are joined.
      const joined = this.threads.map((t) => new Promise((r) => t.worker.once("exit", r)));
      void Promise.allSettled(this.threads.map((t) => t.call("close", timeoutMs))).then(() => Promise.all(joined)).then(done);
    }, () => this.destroy());
    return this.closing;
  }

  destroy(): void {
    this.acceptor?.close();
    for (const t of this.threads) void t.worker.terminate();
  }

  /** Counters summed over the threads (each refreshes its share every few milliseconds). */
  stats(): HostStats {
    const sum = Object.fromEntries(STAT_FIELDS.map((f) => [f, 0])) as unknown as HostStats;
    for (let t = 0; t < this.threads.length; t++) {
      STAT_FIELDS.forEach((f, i) => {
        const v = this.counters[t * STAT_FIELDS.length + i];
        (sum as unknown as Record<string, number>)[f] = f === "largestBatch" ? Math.max(sum[f], v) : sum[f] + v;
      });
    }
    return sum;
  }

  /** Per-thread counters, for seeing how connections spread. */
  perThread(): HostStats[] {
    return this.threads.map((_, t) => Object.fromEntries(STAT_FIELDS.map((f, i) => [f, this.counters[t * STAT_FIELDS.length + i]])) as unknown as HostStats);
  }

  /** Each thread takes its share of the limit (the kernel spreads connections about evenly). */
  setMaxConnections(max: number): void {
    const share = max === 0 ? 0 : Math.ceil(max / this.threads.length);
    for (const t of this.threads) void t.call("setMaxConnections", share);
  }

  /** To the thread owning the connection (a global id), or to every thread for conn 0 (broadcasts, publishes). */
  inject(op: number, conn: number, bytes: Uint8Array): void {
    if (conn === 0) {
      for (const t of this.threads) t.inject(op, 0, bytes);
      return;
    }
    const [thread, local] = localConn(conn);
    this.threads[thread]?.inject(op, local, bytes);
  }
}
