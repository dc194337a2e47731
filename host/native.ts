// The native epoll host: the addon does epoll and the socket calls, the module does
// the rest. One NativeHost is one reactor: one epoll fd, one module instance.
import { loadAddon, type NativeReactor, type NativeStats } from "./addon.js";
import { startInstance, type ModuleConfig, type ModuleInstance } from "./module.js";

export interface ListenSpec {
  host: string;
  port: number;
  backlog: number;
  reusePort: boolean;
  ipv6Only: boolean;
}

export interface HostStats extends NativeStats {
  traps: number;
  /** Bytes of the module's linear memory (rings, arena, tables, buffers). */
  moduleMemoryBytes: number;
  /** Of those, bytes held by connection state: the handle table and leftover buffers. */
  connectionMemoryBytes: number;
}

export class NativeHost {
  private readonly reactor: NativeReactor;
  private instance: ModuleInstance;
  private traps = 0;
  private closing: Promise<void> | undefined;

  constructor(private readonly config: ModuleConfig, private readonly onTrap: (err: Error) => void) {
    this.reactor = new (loadAddon().Reactor)();
    this.instance = this.attachFreshInstance();
  }

  /** Opens a listening socket; returns the bound port. Throws with `errno` set. */
  listen(spec: ListenSpec): number {
    return this.reactor.listen(spec.host, spec.port, spec.backlog, spec.reusePort, spec.ipv6Only).port;
  }

  start(): void {
    this.reactor.start();
  }

  /** Stops accepting, lets every connection flush and close; forces it after timeoutMs. */
  close(timeoutMs: number): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.reactor.destroy();
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.reactor.shutdown(finish);
    });
    return this.closing;
  }

  /** Releases everything at once (listeners, connections) without flushing. */
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

  private attachFreshInstance(): ModuleInstance {
    const instance = startInstance(this.config);
    this.reactor.attach(instance.memory, instance.dispatch, instance.header, (err) => this.recover(err));
    return instance;
  }

  // A trap ends the instance, not the server: the connections it owned are closed
  // (their state died with it), a fresh instance takes over and listening goes on.
  private recover(err: Error): void {
    this.traps++;
    this.reactor.dropConnections();
    this.instance = this.attachFreshInstance();
    this.reactor.start();
    this.onTrap(err);
  }
}
