// The simulator host: a deterministic, seeded network in one process, driving the
// same module through the same door as the other hosts. Virtual clients connect,
// send generated traffic and check every byte that comes back; a virtual clock orders
// deliveries; faults (each with its own probability) split and glue reads, cut sends
// short, stall readers, reset connections, fail accepts and delay packets.
//
// Everything random comes from one seeded generator, and everything is visited in a
// fixed order, so a seed reproduces a run byte for byte, faults included.
import { createHash } from "node:crypto";
import { acceptWords, connId, Door, EV, INTEREST, OP, SLOT_MASK, type Submission } from "./door.js";

/** A virtual client's address: 127.0.0.1, port 10000 + its index (wrapping within the ephemeral range). */
function virtualPeer(index: number): [number, number] {
  return acceptWords(0, "127.0.0.1", 10000 + (index % 50000));
}
import type { ModuleConfig } from "./module.js";
import type { IsolatedTrap } from "./rollback.js";
import { startIsolatedInstance } from "./trace.js";

export interface Faults {
  /** A delivery is cut at a random byte (the rest comes in a later read). */
  split: number;
  /** Several pending writes of a client arrive glued into one read. */
  glue: number;
  /** A send is accepted only in part; the rest must wait for writability. */
  shortSend: number;
  /** A client stops reading for a while (its window closes). */
  slowReader: number;
  /** A client resets its connection instead of writing its next message. */
  reset: number;
  /** A connection attempt fails before the module sees it (it is retried). */
  acceptFail: number;
  /** A delivery waits a few virtual milliseconds more. */
  delay: number;
}

export const NO_FAULTS: Faults = { split: 0, glue: 0, shortSend: 0, slowReader: 0, reset: 0, acceptFail: 0, delay: 0 };
export const FAULT_NAMES = Object.keys(NO_FAULTS) as (keyof Faults)[];

/** The module's settings (ModuleConfig's, passed through), with the ring and arena sizes optional, and the run's. */
export interface SimOptions extends Omit<ModuleConfig, "eventCapacity" | "arenaHalfBytes" | "maxLineLength"> {
  seed: number;
  connections: number;
  /** How many of the connections exchange traffic (the rest stay idle). */
  active: number;
  messagesPerClient: number;
  /** Largest message (echo) or line (line) a client sends. */
  maxMessageBytes: number;
  faults: Faults;
  eventCapacity?: number;
  arenaHalfBytes?: number;
  /** line: the module's limit (default: maxMessageBytes). */
  maxLineLength?: number;
}

export interface SimResult {
  ok: boolean;
  violations: string[];
  seed: number;
  connections: number;
  events: number;
  batches: number;
  dispatchSeconds: number;
  idleBytesPerConnection: number;
  bytesExchanged: number;
  digest: string;
}

/** xorshift32: small, fast, and the same sequence on every platform for a seed. */
export class Random {
  private s: number;
  constructor(seed: number) {
    this.s = (seed >>> 0) ^ 0x9e3779b9 || 1;
  }
  next(): number {
    let s = this.s;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.s = s >>> 0;
    return this.s / 2 ** 32;
  }
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

interface Client {
  index: number;
  id: number; // connection id while connected, 0 before
  outbound: Buffer[]; // written by the client, not yet read by the server
  sent: Buffer[]; // everything written: what echo and line promise to send back
  sentBytes: number;
  received: number; // bytes received and checked so far
  toSend: number; // messages still to write
  readyAt: number; // virtual ms before which nothing of this client moves
  windowClosedUntil: number; // slow reader: accepts nothing before this time
  interest: number;
  wantsWritable: boolean;
  state: "connecting" | "open" | "ending" | "reset" | "closed";
  eofSent: boolean;
  /** Scripted clients (see ScriptedNetwork) keep what they receive and end when told. */
  scripted: { inbox: Buffer[]; endRequested: boolean } | undefined;
}

const ECONNRESET = 104;
const STEP_MS = 1;
/** The wall clock a simulation starts at (2026-01-01T00:00:00Z): fixed, so runs repeat exactly. */
const SIM_EPOCH_SECONDS = 1767225600;

export class Simulation {
  private readonly random: Random;
  protected readonly door: Door;
  private readonly clients: Client[] = [];
  protected readonly bySlot: (Client | undefined)[] = [];
  private readonly digest = createHash("sha256");
  private readonly violations: string[] = [];
  protected now = 0;
  /** The traps that cost one connection each (with isolateTraps), in order. */
  readonly isolatedTraps: IsolatedTrap[] = [];
  /** Where the outbox of each dispatch goes (requests and WebSocket events for JS), if anywhere. */
  protected onOutbox: ((outbox: Buffer) => void) | undefined;
  private events = 0;
  private batches = 0;
  private dispatchNs = 0n;
  private bytesExchanged = 0;

  constructor(private readonly o: SimOptions) {
    this.random = new Random(o.seed);
    const { seed: _seed, connections: _connections, active: _active, messagesPerClient: _messages, faults: _faults,
      maxMessageBytes, eventCapacity, arenaHalfBytes, maxLineLength, ...module } = o;
    this.door = new Door(startIsolatedInstance({
      ...module,
      eventCapacity: eventCapacity ?? 1024,
      arenaHalfBytes: arenaHalfBytes ?? 256 * 1024,
      maxLineLength: maxLineLength ?? Math.max(maxMessageBytes, 1),
    }, (trap) => this.isolatedTraps.push(trap)), { nowMs: () => this.now, unixSeconds: () => SIM_EPOCH_SECONDS + Math.floor(this.now / 1000) });
  }

  run(): SimResult {
    for (let i = 0; i < this.o.connections; i++) this.clients.push(this.newClient(i));
    this.connectAll();
    const idleBytes = this.door.instance.connectionBytes() / Math.max(1, this.o.connections);
    const active = this.clients.slice(0, Math.min(this.o.active, this.o.connections));
    for (const c of active) c.toSend = this.o.messagesPerClient;
    this.exchange(active);
    this.shutdown();
    this.verify();
    this.digest.update(`events ${this.events} batches ${this.batches}`);
    return {
      ok: this.violations.length === 0,
      violations: this.violations,
      seed: this.o.seed,
      connections: this.o.connections,
      events: this.events,
      batches: this.batches,
      dispatchSeconds: Number(this.dispatchNs) / 1e9,
      idleBytesPerConnection: idleBytes,
      bytesExchanged: this.bytesExchanged,
      digest: this.digest.digest("hex"),
    };
  }

  protected newClient(index: number): Client {
    return { index, id: 0, outbound: [], sent: [], sentBytes: 0, received: 0, toSend: 0, readyAt: 0,
      windowClosedUntil: 0, interest: INTEREST.IN, wantsWritable: false, state: "connecting", eofSent: false,
      scripted: undefined };
  }

  private violation(message: string): void {
    if (this.violations.length < 20) this.violations.push(message);
  }

  /** Every client connects; an accept may fail, and that client tries again. */
  private connectAll(): void {
    let waiting = this.clients;
    let nextSlot = 0;
    while (waiting.length > 0) {
      const retry: Client[] = [];
      for (const c of waiting) {
        if (this.door.roomForEvents() === 0) this.step();
        if (this.random.chance(this.o.faults.acceptFail)) {
          retry.push(c);
          continue;
        }
        const slot = nextSlot++;
        c.id = connId(slot, 1);
        c.state = "open";
        this.bySlot[slot] = c;
        this.door.push(EV.ACCEPT, c.id, ...virtualPeer(slot));
      }
      this.step();
      waiting = retry;
    }
  }

  /** Active clients write their messages and read the replies until all are done. */
  private exchange(active: Client[]): void {
    const limit = 200_000 + this.o.messagesPerClient * 2000;
    let live = active.filter((c) => c.state === "open");
    for (let steps = 0; live.length > 0; steps++) {
      if (steps > limit) {
        this.violation(`no progress after ${limit} steps (${live.length} clients still active)`);
        return;
      }
      // Visit from a rotating start so a full ring is not always filled by the same clients.
      const start = steps % live.length;
      for (let k = 0; k < live.length && this.door.roomForEvents() >= 2; k++) this.advance(live[(start + k) % live.length]);
      this.step();
      this.now += STEP_MS;
      if (steps % 64 === 0) live = live.filter((c) => c.state === "open" || c.state === "ending");
    }
  }

  /** One client's turn: maybe reset, write, deliver a read, signal writability or end. */
  protected advance(c: Client): void {
    if (c.state !== "open" && c.state !== "ending") return;
    if (c.state === "open" && c.toSend > 0 && this.random.chance(0.5)) {
      if (this.random.chance(this.o.faults.reset)) {
        c.state = "reset";
        this.door.push(EV.ERROR, c.id, ECONNRESET);
        return;
      }
      this.writeGenerated(c);
    }
    if (c.wantsWritable && (c.interest & INTEREST.OUT) && this.now >= c.windowClosedUntil) {
      c.wantsWritable = false;
      this.door.push(EV.WRITABLE, c.id);
    }
    if (this.now < c.readyAt || !(c.interest & INTEREST.IN)) return;
    if (c.outbound.length > 0) {
      this.deliver(c);
    } else if (c.scripted ? c.scripted.endRequested && !c.eofSent
      : c.toSend === 0 && !c.eofSent && c.received === c.sentBytes) {
      // Everything answered: half-close, as `nc -q` would; the server then closes.
      c.eofSent = true;
      c.state = "ending";
      this.door.push(EV.EOF, c.id);
    }
  }

  private writeGenerated(c: Client): void {
    const size = 1 + this.random.int(this.o.maxMessageBytes);
    const bytes = Buffer.allocUnsafe(this.o.protocol === "line" ? size + 1 : size);
    for (let i = 0; i < size; i++) bytes[i] = this.o.protocol === "line" ? 0x20 + this.random.int(95) : this.random.int(256);
    if (this.o.protocol === "line") bytes[size] = 0x0a;
    c.outbound.push(bytes);
    c.sent.push(bytes);
    c.sentBytes += bytes.length;
    c.toSend--;
  }

  private deliver(c: Client): void {
    const f = this.o.faults;
    if (this.random.chance(f.delay)) {
      c.readyAt = this.now + 1 + this.random.int(20);
      return;
    }
    let chunk = c.outbound.shift()!;
    while (c.outbound.length > 0 && this.random.chance(f.glue)) chunk = Buffer.concat([chunk, c.outbound.shift()!]);
    if (chunk.length > 1 && this.random.chance(f.split)) {
      const cut = 1 + this.random.int(chunk.length - 1);
      c.outbound.unshift(chunk.subarray(cut));
      chunk = chunk.subarray(0, cut);
    }
    const room = this.door.roomForData();
    if (room === 0) {
      c.outbound.unshift(chunk);
      return;
    }
    if (chunk.length > room) {
      c.outbound.unshift(chunk.subarray(room));
      chunk = chunk.subarray(0, room);
    }
    this.door.pushData(c.id, chunk);
  }

  /** One batch through the door; then the module's submissions are carried out. */
  protected step(): void {
    const n = this.door.pending;
    if (!this.door.hasWork()) return;
    this.events += n;
    this.batches++;
    const started = process.hrtime.bigint();
    const submissions = this.door.dispatch(); // a trap propagates: the run is a failure
    this.dispatchNs += process.hrtime.bigint() - started;
    const outbox = this.door.outbox(submissions.length);
    for (const s of submissions) if (s.op !== OP.OUTBOX) this.execute(s);
    if (outbox) this.onOutbox?.(outbox);
  }

  private execute(s: Submission): void {
    const c = this.bySlot[s.conn & SLOT_MASK];
    if (!c || c.id !== s.conn) {
      this.violation(`submission ${s.op} names connection ${s.conn}, which is not open`);
      return;
    }
    if (s.op === OP.SEND || s.op === OP.SEND_NOTIFY) this.receive(c, s);
    else if (s.op === OP.INTEREST) c.interest = s.a;
    else if (s.op === OP.CLOSE) this.close(c);
    else this.violation(`unknown submission op ${s.op}`);
  }

  /** The client side of a SEND: take what the window allows, check it, report the rest. */
  private receive(c: Client, s: Submission): void {
    const f = this.o.faults;
    if (c.state === "reset") {
      this.door.push(EV.SENT, c.id, s.a, s.b); // nothing goes out on a reset connection
      return;
    }
    if (this.now >= c.windowClosedUntil && this.random.chance(f.slowReader)) {
      c.windowClosedUntil = this.now + 1 + this.random.int(30);
    }
    let take = this.now < c.windowClosedUntil ? 0 : s.b;
    if (take > 0 && this.random.chance(f.shortSend)) take = this.random.int(s.b);
    const bytes = this.door.bytes(s.a, take);
    if (c.scripted) c.scripted.inbox.push(Buffer.from(bytes));
    else this.check(c, bytes);
    this.digest.update(`${c.index}:`).update(bytes);
    this.bytesExchanged += take;
    if (take < s.b) c.wantsWritable = true;
    if (take < s.b || s.op === OP.SEND_NOTIFY) this.door.push(EV.SENT, c.id, s.a + take, s.b - take);
  }

  /** What arrives must continue exactly what the client sent (echo and line both promise that). */
  private check(c: Client, bytes: Uint8Array): void {
    let offset = c.received;
    let at = 0;
    for (const piece of c.sent) {
      if (at === bytes.length) break;
      if (offset >= piece.length) {
        offset -= piece.length;
        continue;
      }
      const n = Math.min(piece.length - offset, bytes.length - at);
      if (Buffer.compare(piece.subarray(offset, offset + n), bytes.subarray(at, at + n)) !== 0) {
        this.violation(`client ${c.index}: byte ${c.received + at} differs from what it sent`);
        break;
      }
      at += n;
      offset = 0;
    }
    if (at < bytes.length) this.violation(`client ${c.index}: received ${bytes.length - at} bytes it never sent`);
    c.received += bytes.length;
    // Drop fully answered messages so a long run does not keep them all.
    while (c.sent.length > 0 && c.received >= c.sent[0].length) {
      c.received -= c.sent[0].length;
      c.sentBytes -= c.sent[0].length;
      c.sent.shift();
    }
  }

  private close(c: Client): void {
    if (c.scripted) {
      // What a scripted client should have received is the script's to judge.
    } else if (c.state === "open" && c.toSend === 0 && c.outbound.length === 0 && c.received === c.sentBytes) {
      c.state = "closed"; // an idle client closed by shutdown
    } else if (c.state === "open" || (c.state === "ending" && c.received !== c.sentBytes)) {
      this.violation(`client ${c.index}: closed by the server with ${c.sentBytes - c.received} bytes unanswered`);
    }
    c.state = "closed";
    this.bySlot[c.id & SLOT_MASK] = undefined;
  }

  /** Graceful shutdown through the module: every connection must be flushed and closed. */
  private shutdown(): void {
    // Every active client has finished by now, so nothing waits for writability.
    this.door.push(EV.SHUTDOWN, 0);
    do this.step();
    while (this.door.pending > 0 || this.door.wantsMore());
  }

  private verify(): void {
    const open = this.clients.filter((c) => c.state !== "closed").length;
    if (open > 0) this.violation(`${open} connections still open after shutdown`);
  }
}

/**
 * The simulator driven by a script instead of generated traffic: open clients, write,
 * half-close, run until the network is quiet, read what each client received. The same
 * faults apply (reads split and glued, short sends, slow readers, delays), from the seed.
 */
export class ScriptedNetwork extends Simulation {
  private readonly scriptedClients: Client[] = [];
  /** Events from the JS application side (responses, WebSocket sends), for the next batches. */
  private readonly injected: { op: number; conn: number; bytes: Buffer }[] = [];

  constructor(options: SimOptions, onOutbox?: (outbox: Buffer) => void) {
    super(options);
    this.onOutbox = onOutbox;
  }

  /** An event from JS that carries bytes (EV_RESPONSE, EV_WS_SEND, …; conn 0 for a broadcast). */
  inject(op: number, conn: number, bytes: Uint8Array): void {
    this.injected.push({ op, conn, bytes: Buffer.from(bytes) });
  }

  /** Hands the module what JS injected, in order, as far as the ring and the arena have room. */
  private feedInjected(): void {
    let taken = 0;
    for (const e of this.injected) {
      if (this.door.roomForEvents() === 0 || e.bytes.length > this.door.roomForData()) break;
      this.door.pushData(e.conn, e.bytes, e.op);
      taken++;
    }
    this.injected.splice(0, taken);
  }

  /** Whether JS has injected events the module has not had yet. */
  get injecting(): boolean {
    return this.injected.length > 0;
  }

  openClient(): number {
    const c = this.newClient(this.scriptedClients.length);
    c.scripted = { inbox: [], endRequested: false };
    c.id = connId(c.index, 1);
    c.state = "open";
    this.bySlot[c.index] = c;
    this.scriptedClients.push(c);
    this.door.push(EV.ACCEPT, c.id, ...virtualPeer(c.index));
    return c.index;
  }

  write(client: number, bytes: Uint8Array): void {
    this.scriptedClients[client].outbound.push(Buffer.from(bytes));
  }

  end(client: number): void {
    this.scriptedClients[client].scripted!.endRequested = true;
  }

  /** Runs until nothing is left to deliver and the module has nothing more to say. */
  settle(maxSteps = 100_000): void {
    for (let quiet = 0, steps = 0; quiet < 50; steps++) {
      if (steps > maxSteps) throw new Error(`the network did not settle in ${maxSteps} steps`);
      const busy = this.injected.length > 0 || this.scriptedClients.some((c) => (c.state === "open" || c.state === "ending")
        && (c.outbound.length > 0 || c.wantsWritable || (c.scripted!.endRequested && !c.eofSent)));
      this.feedInjected();
      for (const c of this.scriptedClients) if (this.door.roomForEvents() >= 2) this.advance(c);
      const active = this.door.pending > 0;
      this.step();
      this.now += STEP_MS;
      quiet = busy || active ? 0 : quiet + 1;
    }
  }

  /**
   * Moves the virtual clock on by ms, settling at each of the module's deadlines on the
   * way, so that timers set by the timers that fire fire too, in order.
   */
  elapse(ms: number): void {
    const until = this.now + ms;
    for (let wait = this.door.untilDeadline(); wait !== undefined && this.now + Math.max(wait, 0) <= until;
      wait = this.door.untilDeadline()) {
      this.now += Math.max(wait, 0);
      this.settle();
    }
    this.now = Math.max(this.now, until);
    this.settle();
  }

  received(client: number): Buffer {
    return Buffer.concat(this.scriptedClients[client].scripted!.inbox);
  }

  closedByServer(client: number): boolean {
    return this.scriptedClients[client].state === "closed";
  }
}

export function simulate(options: SimOptions): SimResult {
  return new Simulation(options).run();
}
