// The native epoll host: the addon does epoll and the socket calls, the module does
// the rest. One NativeHost is one reactor: one epoll fd, one module instance.
import { loadAddon, type NativeReactor } from "./addon.js";
import { EV, readLayout, takeRequests, type RequestHandoff } from "./door.js";
import { closeWithin, type HostStats, type ListenSpec, type ReactorHost, type RequestSink } from "./host.js";
import type { ModuleConfig, ModuleInstance } from "./module.js";
import { startRecordedInstance, type Recorder } from "./trace.js";

export class NativeHost implements ReactorHost {
  private readonly reactor: NativeReactor;
  private instance: ModuleInstance;
  private traps = 0;
  private closing: Promise<void> | undefined;
  private handoffs: RequestHandoff[] = [];

  constructor(
    private readonly config: ModuleConfig,
    private readonly onTrap: (err: Error) => void,
    private readonly recorder?: Recorder,
    private readonly onRequest?: RequestSink,
  ) {
    this.reactor = new (loadAddon().Reactor)();
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
      connectionMemoryBytes: this.instance.connectionBytes(),
    };
  }

  respond(conn: number, piece: Uint8Array): void {
    this.reactor.inject(EV.RESPONSE, conn, piece);
  }

  private attachFreshInstance(): ModuleInstance {
    const instance = startRecordedInstance(this.config, this.recorder);
    this.reactor.attach(instance.memory, this.withHandoffs(instance), instance.header, (err) => this.recover(err));
    return instance;
  }

  /**
   * With a request handler, the dispatch the reactor calls also copies out the requests
   * for JS; they are delivered once the reactor's loop has returned (setImmediate), not
   * from inside it.
   */
  private withHandoffs(instance: ModuleInstance): (n: number) => number {
    if (!this.onRequest) return instance.dispatch;
    const { subRing } = readLayout(instance.memory, instance.header);
    return (n) => {
      const m = instance.dispatch(n);
      const requests = takeRequests(instance.memory, instance.header, subRing, m);
      if (requests.length > 0) {
        if (this.handoffs.length === 0) setImmediate(() => this.deliver());
        this.handoffs.push(...requests);
      }
      return m;
    };
  }

  private deliver(): void {
    const requests = this.handoffs;
    this.handoffs = [];
    for (const r of requests) this.onRequest!(r);
  }

  // A trap ends the instance, not the server: the connections it owned are closed
  // (their state died with it), a fresh instance takes over and listening goes on.
  private recover(err: Error): void {
    this.traps++;
    this.reactor.dropConnections();
    this.handoffs = []; // their connections died with the instance
    this.instance = this.attachFreshInstance();
    this.reactor.start();
    this.onTrap(err);
  }
}
