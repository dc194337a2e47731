// What every host offers the server (native epoll, node:net, and later the simulator):
// a small interface, like Redis's ae backends, with the loop logic in each host's file.
import type { NativeStats } from "./addon.js";
import type { IsolatedTrap } from "./rollback.js";
/** Where a host hands the outbox of a dispatch (HTTP requests, WebSocket events for JS). */
/** What the module hands JS; `thread`: which sub-reactor's module (threads), whose conn ids JS tells apart (threads.ts globalConn). */
export type OutboxSink = (outbox: Buffer, thread?: number) => void;

/**
 * How a host reports a trap: with `isolated`, the trap cost only that connection
 * (rollback isolation); without, the instance was restarted and its connections lost.
 */
export type TrapReport = (err: Error, isolated?: { connection: number; recoveryMs: number }, thread?: number) => void;

/**
 * What a host hands its instances for traps isolated to one connection: `counted` runs
 * at once; the report goes out once the host's loop has returned, not from inside it.
 */
export function reportIsolated(counted: () => void, onTrap: TrapReport): (trap: IsolatedTrap) => void {
  return ({ error, connection, recoveryMs }) => {
    counted();
    setImmediate(() => onTrap(error, { connection, recoveryMs }));
  };
}

export interface ListenSpec {
  host: string;
  port: number;
  backlog: number;
  reusePort: boolean;
  ipv6Only: boolean;
}

export interface HostStats extends NativeStats {
  traps: number;
  /** Bytes of the module's linear memory (rings, arena, tables, buffers): grown, never returned (WebAssembly memory cannot shrink). */
  moduleMemoryBytes: number;
  /** Of those, bytes in use now (the instance's rings and arena, and blocks not freed); the rest is reserved, free for reuse. */
  moduleMemoryInUseBytes: number;
  /** Of those, bytes held by connection state: the handle table and leftover buffers. */
  connectionMemoryBytes: number;
}

export interface ReactorHost {
  /** Opens a listening socket; resolves with the bound port. Rejects with `errno` or `code` set. */
  listen(spec: ListenSpec): Promise<number>;
  start(): void;
  /** Stops accepting, lets every connection flush and close; forces it after timeoutMs. */
  close(timeoutMs: number): Promise<void>;
  /** Releases everything at once (listeners, connections) without flushing. */
  destroy(): void;
  stats(): HostStats;
  /**
   * Queues an event from JS that carries bytes (EV_RESPONSE, EV_WS_SEND, EV_WS_CLOSE,
   * EV_WS_BROADCAST with conn 0) for the next batch.
   */
  inject(op: number, conn: number, bytes: Uint8Array): void;
  /** Past this many open connections a new one is closed at once, cleanly (0: no limit). */
  setMaxConnections(max: number): void;
}

/** Runs a graceful close, falling back to `force` if it takes longer than timeoutMs. */
export function closeWithin(timeoutMs: number, graceful: (done: () => void) => void, force: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      force();
      resolve();
    };
    const timer = setTimeout(finish, timeoutMs);
    graceful(finish);
  });
}
