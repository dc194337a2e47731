// The door, for hosts written in TypeScript (node:net, simulator): writes event
// records and DATA bytes into the module, calls dispatch once, and reads the
// submissions back. The native host does the same in C++ (native/reactor.cc).
// Offsets come from the module's header; the memory's buffer is re-read after every
// call into the module, because memory.grow detaches it.
import type { ModuleInstance } from "./module.js";

export const EV = { ACCEPT: 1, DATA: 2, EOF: 3, ERROR: 4, WRITABLE: 5, SENT: 6, SHUTDOWN: 7, RESPONSE: 8,
  WS_SEND: 9, WS_CLOSE: 10, WS_BROADCAST: 11, CALL_RESULT: 12, BODY_READ: 13, WS_ACCEPT: 14,
  WS_PUBLISH: 15, WS_SUBSCRIBE: 16 } as const;
export const OP = { SEND: 1, SEND_NOTIFY: 2, INTEREST: 3, CLOSE: 4, OUTBOX: 6 } as const;
/** Events that carry bytes in the arena (a, b), which a host puts there and a trace records. */
export const EVENTS_WITH_BYTES: number[] = [EV.DATA, EV.RESPONSE, EV.WS_SEND, EV.WS_CLOSE, EV.WS_BROADCAST, EV.CALL_RESULT, EV.BODY_READ,
  EV.WS_ACCEPT, EV.WS_PUBLISH, EV.WS_SUBSCRIBE];
/** Submissions that name bytes in module memory (a, b). */
export const SUBMISSIONS_WITH_BYTES: number[] = [OP.SEND, OP.SEND_NOTIFY, OP.OUTBOX];
export const INTEREST = { IN: 1, OUT: 2 } as const;
export const SLOT_BITS = 20;
export const SLOT_MASK = (1 << SLOT_BITS) - 1;
const H = { EV_RING: 8, EV_CAP: 12, SUB_RING: 16, SUB_CAP: 20, ARENA: 24, ARENA_HALF: 28, FLAGS: 36, OPEN: 40,
  NOW_MS: 44, UNIX_SECONDS: 48, DEADLINE: 52 };
const FLAG_MORE = 1;
const FLAG_TIMER = 2;

/** The time a host gives the module before each dispatch (header NOW_MS and UNIX_SECONDS). */
export interface Clock {
  /** A monotonic clock in milliseconds (the module sees it modulo 2^32). */
  nowMs(): number;
  unixSeconds(): number;
}

export const realClock: Clock = {
  nowMs: () => Math.floor(performance.now()),
  unixSeconds: () => Math.floor(Date.now() / 1000),
};

/** Writes the clock words the module reads at the start of dispatch. */
export function writeClock(memory: WebAssembly.Memory, header: number, nowMs: number, unixSeconds: number): void {
  const view = new DataView(memory.buffer);
  view.setUint32(header + H.NOW_MS, nowMs >>> 0, true);
  view.setUint32(header + H.UNIX_SECONDS, unixSeconds >>> 0, true);
}

/** Kinds of outbox entries (assembly/outbox.ts). */
export const OUT = { WS_OPEN: 1, WS_TEXT: 2, WS_BINARY: 3, WS_CLOSED: 4, WS_BUFFERED: 5, HTTP_REQUEST: 6, HOST_CALL: 7,
  HTTP_BODY: 8, HTTP_FLOW: 9, HTTP_CLOSED: 10, CONN_PEER: 11, WS_PING: 12, WS_PONG: 13, WS_UPGRADE: 14,
  WS_DROPPED: 15, WS_PUBLISH_DROPPED: 16 } as const;

/** The ACCEPT record's words: listener index | peer port << 16, and the peer's IPv4 address (its bytes in order; 0: unknown). */
export function acceptWords(listener: number, address: string | undefined, port: number | undefined): [number, number] {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(address ?? "");
  const ip = v4 ? (Number(v4[1]) | Number(v4[2]) << 8 | Number(v4[3]) << 16 | Number(v4[4]) << 24) >>> 0 : 0;
  return [(listener | (port ?? 0) << 16) >>> 0, ip];
}

/**
 * The outbox of the dispatch that just returned m submissions (its last record, if it
 * is OP_OUTBOX), copied out of module memory: it is valid only until the next dispatch.
 */
export function takeOutbox(memory: WebAssembly.Memory, subRing: number, m: number): Buffer | undefined {
  if (m === 0) return undefined;
  const view = new DataView(memory.buffer);
  const last = subRing + (m - 1) * 16;
  if (view.getUint32(last, true) !== OP.OUTBOX) return undefined;
  const ptr = view.getUint32(last + 8, true);
  const len = view.getUint32(last + 12, true);
  if (ptr + len > memory.buffer.byteLength) throw new Error(`module named an outbox past its memory: ${ptr}+${len}`);
  return Buffer.from(new Uint8Array(memory.buffer, ptr, len));
}

/** Each entry of an outbox: kind u32, conn u32, length u32, payload padded to 4 bytes. */
export function forEachOutboxEntry(outbox: Buffer, visit: (kind: number, conn: number, payload: Buffer) => void): void {
  for (let at = 0; at + 12 <= outbox.length;) {
    const len = outbox.readUInt32LE(at + 8);
    visit(outbox.readUInt32LE(at), outbox.readUInt32LE(at + 4), outbox.subarray(at + 12, at + 12 + len));
    at += 12 + ((len + 3) & ~3);
  }
}

/** The clock words as the host wrote them for the coming dispatch (for recorders). */
export function readClock(memory: ArrayBuffer | DataView, header: number): [number, number] {
  const view = memory instanceof DataView ? memory : new DataView(memory);
  return [view.getUint32(header + H.NOW_MS, true), view.getUint32(header + H.UNIX_SECONDS, true)];
}

export const connId = (slot: number, gen: number): number => (slot | (gen << SLOT_BITS)) >>> 0;

export interface Layout {
  evRing: number;
  eventCapacity: number;
  subRing: number;
  subCap: number;
  arena: number;
  arenaHalf: number;
}

/** The ring and arena offsets an instance's header declares. */
export function readLayout(memory: WebAssembly.Memory, header: number): Layout {
  const view = new DataView(memory.buffer);
  const word = (offset: number) => view.getUint32(header + offset, true);
  return { evRing: word(H.EV_RING), eventCapacity: word(H.EV_CAP), subRing: word(H.SUB_RING),
    subCap: word(H.SUB_CAP), arena: word(H.ARENA), arenaHalf: word(H.ARENA_HALF) };
}

export interface Submission {
  op: number;
  conn: number;
  a: number;
  b: number;
}

export class Door {
  readonly eventCapacity: number;
  private readonly evRing: number;
  private readonly subRing: number;
  private readonly subCap: number;
  private readonly arena: number;
  private readonly arenaHalf: number;
  private count = 0;
  private half = 0;
  private arenaUsed = 0;

  constructor(readonly instance: ModuleInstance, private readonly clock: Clock = realClock) {
    const layout = readLayout(instance.memory, instance.header);
    this.evRing = layout.evRing;
    this.eventCapacity = layout.eventCapacity;
    this.subRing = layout.subRing;
    this.subCap = layout.subCap;
    this.arena = layout.arena;
    this.arenaHalf = layout.arenaHalf;
  }

  private view(): DataView {
    return new DataView(this.instance.memory.buffer);
  }

  get pending(): number {
    return this.count;
  }

  roomForEvents(): number {
    return this.eventCapacity - this.count;
  }

  /** Bytes of the current arena half still free for DATA. */
  roomForData(): number {
    return this.arenaHalf - this.arenaUsed;
  }

  push(op: number, conn: number, a = 0, b = 0): void {
    if (this.count >= this.eventCapacity) throw new Error("door: event ring full");
    const view = this.view();
    const at = this.evRing + this.count * 16;
    view.setUint32(at, op, true);
    view.setUint32(at + 4, conn, true);
    view.setUint32(at + 8, a, true);
    view.setUint32(at + 12, b, true);
    this.count++;
  }

  /** Copies bytes into the arena and queues a DATA (or RESPONSE) record; the caller checked the room. */
  pushData(conn: number, bytes: Uint8Array, op: number = EV.DATA): void {
    const at = this.arena + this.half * this.arenaHalf + this.arenaUsed;
    new Uint8Array(this.instance.memory.buffer, at, bytes.length).set(bytes);
    this.arenaUsed += bytes.length;
    this.push(op, conn, at, bytes.length);
  }

  /** What the dispatch that just returned m submissions hands to JS: its outbox, if any. */
  outbox(m: number): Buffer | undefined {
    return takeOutbox(this.instance.memory, this.subRing, m);
  }

  /** Whether the module asked to be called again even without events. */
  wantsMore(): boolean {
    return (this.view().getUint32(this.instance.header + H.FLAGS, true) & FLAG_MORE) !== 0;
  }

  /** Milliseconds until the module's deadline (≤ 0: due now), or undefined when it has none. */
  untilDeadline(): number | undefined {
    const view = this.view();
    if ((view.getUint32(this.instance.header + H.FLAGS, true) & FLAG_TIMER) === 0) return undefined;
    return (view.getUint32(this.instance.header + H.DEADLINE, true) - (this.clock.nowMs() >>> 0)) | 0;
  }

  /** Whether dispatch has anything to do: events, a shutdown in progress, or a deadline reached. */
  hasWork(): boolean {
    return this.count > 0 || this.wantsMore() || (this.untilDeadline() ?? 1) <= 0;
  }

  /**
   * Hands the queued events to the module; returns its submissions. A trap propagates
   * as the exception it is. The arena half flips: these bytes stay valid through the
   * next dispatch, as short sends may point at them.
   */
  dispatch(): Submission[] {
    const n = this.count;
    this.count = 0;
    writeClock(this.instance.memory, this.instance.header, this.clock.nowMs(), this.clock.unixSeconds());
    const m = this.instance.dispatch(n);
    if (m > this.subCap) throw new Error(`module wrote ${m} submissions into a ring of ${this.subCap}`);
    const view = this.view();
    const out: Submission[] = new Array(m);
    for (let i = 0; i < m; i++) {
      const at = this.subRing + i * 16;
      out[i] = { op: view.getUint32(at, true), conn: view.getUint32(at + 4, true),
        a: view.getUint32(at + 8, true), b: view.getUint32(at + 12, true) };
    }
    this.half ^= 1;
    this.arenaUsed = 0;
    return out;
  }

  /** The bytes a SEND names, as a view into the current memory (copy before the next dispatch). */
  bytes(ptr: number, len: number): Uint8Array {
    const memory = this.instance.memory.buffer;
    if (ptr + len > memory.byteLength) throw new Error(`module named bytes past its memory: ${ptr}+${len}`);
    return new Uint8Array(memory, ptr, len);
  }
}
