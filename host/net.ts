// The node:net host: the same module served through Node's own sockets, for
// platforms without epoll and as proof that handlers port unchanged. Node's loop is
// the demultiplexer here; socket events queue up and run as one batch per turn
// (setImmediate), through the same door as every other host.
//
// Differences from the native host, each kept behind the same ABI:
// - bytes are copied into the arena (Node hands us Buffers) and out of it on send;
// - a SEND is "short" (nothing taken) when Node already buffers more than
//   WRITE_BUFFER_LIMIT for the socket, and 'drain' becomes WRITABLE, so the module's
//   backpressure (buffer, OUT interest, pause input) works as it does over epoll;
// - input interest off is socket.pause(), and what Node had already read for the
//   connection waits here (held) until input interest is back, as unread bytes wait in
//   the kernel under epoll: the module hears nothing it asked not to hear.
import net from "node:net";
import { acceptWords, connId, Door, EV, INTEREST, OP, realClock, SLOT_MASK, type Clock, type Submission } from "./door.js";
import { closeWithin, type HostStats, type ListenSpec, type OutboxSink, type ReactorHost, reportIsolated, type TrapReport } from "./host.js";
import type { ModuleConfig, ModuleInstance } from "./module.js";
import { startRecordedInstance, type Recorder } from "./trace.js";

const WRITE_BUFFER_LIMIT = 1 << 20;
const EPIPE = 32;

interface Connection {
  id: number;
  socket: net.Socket;
  interest: number;
  dead: boolean; // the module closed it, or it died and ERROR was queued
  /** Input (DATA, EOF) read while input interest was off, in order: delivered once it is on again. */
  held?: Pending[];
}

interface Pending {
  op: number;
  conn: Connection | null; // null: SHUTDOWN
  a: number;
  b?: number;
  data?: Buffer;
}

export class NetHost implements ReactorHost {
  private door: Door;
  private readonly servers: net.Server[] = [];
  private readonly slots: (Connection | undefined)[] = [];
  private readonly generations: number[] = [];
  private readonly freeSlots: number[] = [];
  private queue: Pending[] = [];
  /** What JS injected since the last batch: it goes first into the next, as on the native host. */
  private injected: Pending[] = [];
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private maxConnections = 0;
  private started = false;
  private draining: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private traps = 0;
  private readonly counters = { connections: 0, accepted: 0, bytesIn: 0, bytesOut: 0, batches: 0, events: 0, largestBatch: 0, receives: 0 };

  constructor(
    private readonly config: ModuleConfig,
    private readonly onTrap: TrapReport,
    private readonly recorder?: Recorder,
    private readonly onOutbox?: OutboxSink,
    private readonly clock: Clock = realClock,
  ) {
    this.door = new Door(this.startInstance(), clock);
  }

  setMaxConnections(max: number): void {
    this.maxConnections = max;
  }

  inject(op: number, conn: number, bytes: Uint8Array): void {
    const c = conn === 0 ? null : this.slots[conn & SLOT_MASK]; // conn 0: for the whole server (a broadcast, a publish)
    if (c === null || (c && c.id === conn && !c.dead)) {
      this.injected.push({ op, conn: c, a: 0, data: Buffer.from(bytes) });
      this.schedule();
    }
  }

  listen(spec: ListenSpec): Promise<number> {
    const index = this.servers.length;
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket, index));
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: spec.host, port: spec.port, backlog: spec.backlog || undefined, ipv6Only: spec.ipv6Only }, () => {
        server.off("error", reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  start(): void {
    this.started = true;
    this.schedule();
  }

  close(timeoutMs: number): Promise<void> {
    this.closing ??= closeWithin(timeoutMs, (done) => {
      for (const s of this.servers) s.close();
      this.draining = done;
      this.enqueue({ op: EV.SHUTDOWN, conn: null, a: 0 });
    }, () => this.destroy());
    return this.closing;
  }

  destroy(): void {
    clearTimeout(this.timer);
    for (const s of this.servers) s.close();
    this.dropConnections();
    this.draining = undefined;
  }

  stats(): HostStats {
    return {
      ...this.counters,
      shed: 0,
      starved: 0,
      traps: this.traps,
      moduleMemoryBytes: this.door.instance.memory.buffer.byteLength,
      moduleMemoryInUseBytes: this.door.instance.memoryInUse(),
      connectionMemoryBytes: this.door.instance.connectionBytes(),
    };
  }

  private accept(socket: net.Socket, listener: number): void {
    if (this.draining || this.closing || (this.maxConnections > 0 && this.counters.connections >= this.maxConnections)) {
      socket.destroy(); // nothing was written: a clean close
      return;
    }
    const slot = this.freeSlots.pop() ?? this.slots.length;
    if (slot > SLOT_MASK) {
      socket.destroy();
      return;
    }
    const gen = ((this.generations[slot] ?? 0) + 1) & 0xfff;
    this.generations[slot] = gen;
    const c: Connection = { id: connId(slot, gen), socket, interest: INTEREST.IN, dead: false };
    this.slots[slot] = c;
    this.counters.accepted++;
    this.counters.connections++;
    const [a, b] = acceptWords(listener, socket.remoteAddress, socket.remotePort);
    this.enqueue({ op: EV.ACCEPT, conn: c, a, b });
    socket.on("data", (data: Buffer) => {
      this.counters.receives++;
      this.enqueue({ op: EV.DATA, conn: c, a: 0, data });
    });
    socket.on("end", () => this.enqueue({ op: EV.EOF, conn: c, a: 0 }));
    socket.on("drain", () => {
      if (c.interest & INTEREST.OUT) this.enqueue({ op: EV.WRITABLE, conn: c, a: 0 });
    });
    socket.on("error", (err: NodeJS.ErrnoException) => this.fail(c, Math.abs(err.errno ?? EPIPE)));
    socket.on("close", () => this.fail(c, EPIPE));
  }

  /** The socket died under the module: one ERROR, then the module CLOSEs it. */
  private fail(c: Connection, errno: number): void {
    if (c.dead) return;
    c.dead = true;
    this.enqueue({ op: EV.ERROR, conn: c, a: errno });
  }

  private enqueue(p: Pending): void {
    this.queue.push(p);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || !this.started) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.runBatch();
    });
  }

  /** Puts the events of `list` into the batch, in order, while it has room; returns how many it took. */
  private take(list: Pending[]): number {
    const door = this.door;
    let taken = 0;
    while (taken < list.length && door.roomForEvents() > 0) {
      const p = list[taken];
      const c = p.conn;
      if ((p.op === EV.DATA || p.op === EV.EOF) && c && (!(c.interest & INTEREST.IN) || c.held?.length)) {
        (c.held ??= []).push(p); // the module stopped reading this connection: it waits, in order
        taken++;
        continue;
      }
      if (p.op === EV.DATA) {
        const room = door.roomForData();
        if (room === 0) break;
        if (p.data!.length > room) {
          door.pushData(p.conn!.id, p.data!.subarray(0, room));
          p.data = p.data!.subarray(room);
          break;
        }
        door.pushData(p.conn!.id, p.data!);
        this.counters.bytesIn += p.data!.length;
      } else if (p.data) {
        if (p.data.length > door.roomForData()) break; // pieces from JS are small: next batch
        door.pushData(p.conn?.id ?? 0, p.data, p.op);
      } else {
        door.push(p.op, p.conn?.id ?? 0, p.a, p.b ?? 0);
      }
      taken++;
    }
    return taken;
  }

  private runBatch(): void {
    // Completions from the previous batch are already first in the ring; then what JS
    // injected (as on the native host), then socket events.
    const door = this.door;
    this.injected = this.injected.slice(this.take(this.injected));
    if (this.injected.length === 0) this.queue = this.queue.slice(this.take(this.queue));
    const n = door.pending;
    if (!door.hasWork()) {
      // A timer can fire a moment before the module's clock reaches its deadline: re-arm it
      // for the rest, or the timeout would never come.
      this.armTimer();
      return this.checkDrained();
    }
    this.counters.batches++;
    this.counters.events += n;
    this.counters.largestBatch = Math.max(this.counters.largestBatch, n);
    let submissions: Submission[];
    try {
      submissions = door.dispatch();
    } catch (err) {
      return this.recover(err as Error);
    }
    for (const s of submissions) this.execute(s);
    const outbox = this.onOutbox && door.outbox(submissions.length);
    if (outbox) this.onOutbox!(outbox);
    if (this.queue.length > 0 || this.injected.length > 0 || door.pending > 0 || door.wantsMore()) this.schedule();
    this.armTimer();
    this.checkDrained();
  }

  /** A dispatch at the module's deadline (its timeouts), even if no socket stirs. */
  private armTimer(): void {
    clearTimeout(this.timer);
    const wait = this.door.untilDeadline();
    if (wait === undefined) return;
    this.timer = setTimeout(() => this.schedule(), Math.max(wait, 0)).unref();
  }

  private execute(s: Submission): void {
    const c = this.slots[s.conn & SLOT_MASK];
    if (!c || c.id !== s.conn) return; // stale
    if (s.op === OP.SEND || s.op === OP.SEND_NOTIFY) {
      if (c.dead || c.socket.writableLength > WRITE_BUFFER_LIMIT) {
        this.door.push(EV.SENT, c.id, s.a, s.b); // nothing taken: the module buffers it
        return;
      }
      c.socket.write(Buffer.from(this.door.bytes(s.a, s.b))); // copy: the arena is reused
      this.counters.bytesOut += s.b;
      if (s.op === OP.SEND_NOTIFY) this.door.push(EV.SENT, c.id, s.a + s.b, 0);
    } else if (s.op === OP.INTEREST) {
      c.interest = s.a;
      if (s.a & INTEREST.IN) c.socket.resume();
      else c.socket.pause();
      if ((s.a & INTEREST.IN) && c.held?.length) {
        this.queue.unshift(...c.held); // first: later input of the connection is behind it in the queue
        c.held = undefined;
        this.schedule();
      }
      if ((s.a & INTEREST.OUT) && c.socket.writableLength <= WRITE_BUFFER_LIMIT) {
        this.enqueue({ op: EV.WRITABLE, conn: c, a: 0 });
      }
    } else if (s.op === OP.CLOSE) {
      this.release(c);
      c.socket.end(() => c.socket.destroy()); // what Node still buffers goes out first
    }
  }

  private release(c: Connection): void {
    c.dead = true;
    const slot = c.id & SLOT_MASK;
    this.slots[slot] = undefined;
    this.freeSlots.push(slot);
    this.counters.connections--;
  }

  private checkDrained(): void {
    if (this.draining && this.counters.connections === 0 && !this.door.wantsMore()) {
      const done = this.draining;
      this.draining = undefined;
      done();
    }
  }

  private dropConnections(): void {
    for (const c of this.slots) {
      if (!c) continue;
      this.release(c);
      c.socket.destroy();
    }
    this.queue = [];
    this.injected = [];
  }

  private startInstance(): ModuleInstance {
    return startRecordedInstance(this.config, this.recorder, reportIsolated(() => this.traps++, this.onTrap));
  }

  // As on the native host: a trap ends the instance, not the server.
  private recover(err: Error): void {
    this.traps++;
    this.dropConnections();
    this.door = new Door(this.startInstance(), this.clock);
    this.onTrap(err);
    this.checkDrained();
  }
}
