// The native host: the addon does the system calls (epoll and a recv/send per socket,
// or io_uring), the module does the rest. One NativeHost is one reactor: one epoll fd
// or io_uring, one module instance.
import { loadAddon, type NativeKernel, type NativeReactor } from "./addon.js";
import { readLayout, takeOutbox } from "./door.js";
import { closeWithin, type HostStats, type ListenSpec, type OutboxSink, type ReactorHost, reportIsolated, type TrapReport } from "./host.js";
import type { ModuleConfig, ModuleInstance } from "./module.js";
import { startRecordedInstance, type Recorder } from "./trace.js";

/**
 * io_uring's receive buffers are cut from the module's arena (2 KiB each, one per DATA
 * record, held until the batch after): each arena half is at least this big under the
 * uring kernel, which makes 768 buffers. Bigger costs more than it gives: the module's
 * memory (checkpointed whole for trap isolation) grows with it.
 */
export const URING_ARENA_HALF_BYTES = 1 << 20;

export class NativeHost implements ReactorHost {
  private readonly reactor: NativeReactor;
  private instance: ModuleInstance;
  private traps = 0;
  private closing: Promise<void> | undefined;
  private outboxes: Buffer[] = [];

  constructor(
    private readonly config: ModuleConfig,
    private readonly onTrap: TrapReport,
    private readonly recorder?: Recorder,
    private readonly onOutbox?: OutboxSink,
    kernel: NativeKernel = "epoll",
  ) {
    this.reactor = new (loadAddon().Reactor)(kernel);
    this.instance = this.attachFreshInstance();
  }

  async listen(spec: ListenSpec): Promise<number> {
    return this.reactor.listen(spec.host, spec.port, spec.backlog, spec.reusePort, spec.ipv6Only).port;
  }

  start(): void {
    this.reactor.start();
  }

  close(timeoutMs: number): Promise<void> {
    this.closing ??= closeWithin(timeoutMs, (done) => this.reactor.shutdown(done), () => this.reactor.destroy());
    return this.closing;
  }

  destroy(): void {
    this.reactor.destroy();
  }

  stats(): HostStats {
    return {
      ...this.reactor.stats(),
      traps: this.traps,
      moduleMemoryBytes: this.instance.memory.buffer.byteLength,
      moduleMemoryInUseBytes: this.instance.memoryInUse(),
      connectionMemoryBytes: this.instance.connectionBytes(),
    };
  }

  /** The id an Acceptor hands connections to (main–sub reactors, handoff mode). */
  registryId(): number {
    return this.reactor.registryId();
  }

  setMaxConnections(max: number): void {
    this.reactor.setMaxConnections(max);
  }

  inject(op: number, conn: number, bytes: Uint8Array): void {
    this.reactor.inject(op, conn, bytes);
  }

  private attachFreshInstance(): ModuleInstance {
    const instance = startRecordedInstance(this.config, this.recorder, reportIsolated(() => this.traps++, this.onTrap));
    this.reactor.attach(instance.memory, this.withOutbox(instance), instance.header, (err) => this.recover(err));
    return instance;
  }

  /**
   * With JS listening, the dispatch the reactor calls also copies out what the module
   * hands to JS; it is delivered once the reactor's loop has returned (setImmediate),
   * not from inside it.
   */
  private withOutbox(instance: ModuleInstance): (n: number) => number {
    if (!this.onOutbox) return instance.dispatch;
    const { subRing } = readLayout(instance.memory, instance.header);
    return (n) => {
      const m = instance.dispatch(n);
      const outbox = takeOutbox(instance.memory, subRing, m);
      if (outbox) {
        if (this.outboxes.length === 0) setImmediate(() => this.deliver());
        this.outboxes.push(outbox);
      }
      return m;
    };
  }

  private deliver(): void {
    const outboxes = this.outboxes;
    this.outboxes = [];
    for (const outbox of outboxes) this.onOutbox!(outbox);
  }

  // A trap ends the instance, not the server: the connections it owned are closed
  // (their state died with it), a fresh instance takes over and listening goes on.
  private recover(err: Error): void {
    this.traps++;
    this.reactor.dropConnections();
    this.outboxes = []; // their connections died with the instance
    this.instance = this.attachFreshInstance();
    this.reactor.start();
    this.onTrap(err);
  }
}
