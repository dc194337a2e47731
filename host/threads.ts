// Main–sub reactors: N worker threads, each a sub-reactor with its own epoll instance
// and its own module instance (a NativeHost). Two ways to share the connections:
// - "reuseport": every thread listens on the ports with SO_REUSEPORT and the kernel
//   spreads new connections; the main thread only starts, stops and counts;
// - "handoff": the main thread is the main reactor: it listens and accepts (a native
//   Acceptor in its event loop) and hands each fd to a sub-reactor in turn, waking it
//   through its eventfd.
// Either way a connection lives on one sub-reactor for its whole life.
import type { Worker } from "node:worker_threads";
import { closeWithin, type HostStats, type ListenSpec, type ReactorHost, type TrapReport } from "./host.js";
import { loadAddon, type NativeAcceptor } from "./addon.js";
import type { ModuleConfig } from "./module.js";
import { startWorker } from "./worker-script.js";

/** The HostStats fields, in the order each thread writes them into the shared counters. */
export const STAT_FIELDS = ["connections", "accepted", "bytesIn", "bytesOut", "batches", "events", "shed", "largestBatch",
  "traps", "moduleMemoryBytes", "moduleMemoryInUseBytes", "connectionMemoryBytes"] as const;

export interface ThreadInit {
  config: ModuleConfig;
  index: number;
  stats: SharedArrayBuffer;
}

type Reply = { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: { message: string; code?: string; errno?: number } };
export type ThreadMessage = { kind: "trap"; message: string; isolated?: { connection: number; recoveryMs: number } } | Reply;


class Thread {
  readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(init: ThreadInit, onTrap: TrapReport) {
    this.worker = startWorker(new URL("./reactor-thread.js", import.meta.url), init);
    this.worker.on("message", (m: ThreadMessage) => {
      if ("kind" in m) return onTrap(new Error(m.message), m.isolated);
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

  call(method: string, ...args: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, method, args });
    });
  }
}

export type AcceptMode = "reuseport" | "handoff";

export class ThreadedHost implements ReactorHost {
  private readonly threads: Thread[];
  private readonly counters: Float64Array;
  private closing: Promise<void> | undefined;
  private acceptor: NativeAcceptor | undefined;

  constructor(config: ModuleConfig, count: number, onTrap: TrapReport, private readonly accept: AcceptMode = "reuseport") {
    const stats = new SharedArrayBuffer(count * STAT_FIELDS.length * 8);
    this.counters = new Float64Array(stats);
    this.threads = Array.from({ length: count }, (_, index) => new Thread({ config, index, stats }, onTrap));
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

  inject(): void {
    throw new Error("wasm-reactor: JS handlers do not run with threads yet (in-module protocols only)");
  }
}
