// Rollback isolation: a trap costs the connection whose input caused it, not the
// instance. The module is deterministic and its whole state is linear memory plus its
// exported state globals, so the wrapper below keeps a checkpoint of the instance and a
// log of every batch since (its clock, records, the bytes they carry, and the
// submissions it produced). When a dispatch traps:
//
//   1. the header's CURRENT word names the record being handled: the poisoned one (or,
//      for a timer's hook or a host call's timeout, CURRENT_CONN names its connection);
//   2. the checkpoint is restored and the logged batches are run again, their effects
//      suppressed (what they sent, closed and handed to JS already happened), checking
//      that each produces the submissions it did the first time (and the same bytes, at
//      the edges of each send): a difference means state escaped the checkpoint, and the
//      trap goes up (a full restart);
//   3. the trapping batch runs again with the poisoned record replaced by an EV_ERROR
//      for its connection (or with an EV_ERROR for the timer's connection put first):
//      the module closes only that connection, and every other one goes on with no byte
//      lost or repeated. A fresh checkpoint follows the recovered batch.
//
// A trap outside any one connection's work (a sweep, the flush), on a record of no
// connection, or again and again in a short window, goes up as before: the host
// restarts the instance. The wrapper sits under the recorder, so a trace holds the
// poisoned input and the recovered output, and a replay recovers the same way.
//
// Cost: each batch's records and bytes are copied once into a log buffer allocated once;
// when it is full, a checkpoint copies the memory (into the previous checkpoint's copy).
import { restoreCheckpoint, takeCheckpoint, type Checkpoint } from "./checkpoint.js";
import { EV, EVENTS_WITH_BYTES, OP, readClock, readLayout, writeClock, type Layout } from "./door.js";
import type { ModuleInstance } from "./module.js";

/** What the host hears of a trap that cost one connection. */
export interface IsolatedTrap {
  error: Error;
  /** The connection closed in its place (its id). */
  connection: number;
  /** How long the recovery took (restore, re-run, the batch again), in ms. */
  recoveryMs: number;
  /** Batches run again since the checkpoint. */
  batchesRerun: number;
}

/** One logged batch: where its parts sit in the log buffer. */
interface Entry {
  nowMs: number;
  unixSeconds: number;
  n: number;
  /**
   * Records at `records` (n × 16 bytes); the bytes they carry at `bytes`, copied from
   * `segments` (module address, length, …: each run of adjacent payloads). Runs, not
   * one span: the io_uring host's payloads sit in buffers all over the arena.
   */
  records: number;
  bytes: number;
  segments: number[];
  /** The submissions it produced: m records at `submissions`, and a spot check of what they sent. */
  submissions: number;
  m: number;
  fingerprint: number;
}

/** The log's least size; it also holds at least two of the largest batches. */
const LOG_BYTES = 16 * 1024 * 1024;
/** More isolated traps than this within the window, and the next one restarts the instance. */
const MAX_RECOVERIES = 5;
const RECOVERY_WINDOW_MS = 10_000;
const H_CURRENT = 56;
const H_CURRENT_CONN = 60;
const ECONNABORTED = 103;

/** The instance, its dispatch isolating traps to one connection each; `onIsolated` hears of each. */
export function isolated(instance: ModuleInstance, onIsolated: (trap: IsolatedTrap) => void): ModuleInstance {
  const rollback = new Rollback(instance, onIsolated);
  return { ...instance, dispatch: (n) => rollback.dispatch(n) };
}

class Rollback {
  private readonly layout: Layout;
  private readonly log: Buffer;
  private used = 0;
  private entries: Entry[] = [];
  /** Taken at the first dispatch (after set-up, or after a replay restored its own), then when the log is full. */
  private checkpoint: Checkpoint | undefined;
  private recoveries: number[] = [];
  /** Views of the module's memory, made again only when memory.grow replaced its buffer (not per batch). */
  private viewed: ArrayBuffer | undefined;
  private bytes = new Uint8Array(0);
  private view = new DataView(new ArrayBuffer(0));

  constructor(private readonly instance: ModuleInstance, private readonly onIsolated: (trap: IsolatedTrap) => void) {
    this.layout = readLayout(instance.memory, instance.header);
    const largestBatch = this.layout.eventCapacity * 16 + this.layout.arenaHalf + this.layout.subCap * 16;
    this.log = Buffer.allocUnsafe(Math.max(LOG_BYTES, 2 * largestBatch)); // room for a batch after any checkpoint
  }

  dispatch(n: number): number {
    const entry = this.capture(n);
    let m: number;
    let recovered = false;
    try {
      m = this.instance.dispatch(n);
    } catch (err) {
      m = this.recover(err as Error, entry);
      recovered = true;
    }
    this.logOutput(entry, m);
    if (recovered) this.restartLog(); // the batch ran as it was not logged: start afresh after it
    return m;
  }

  private memory(): Uint8Array {
    const buffer = this.instance.memory.buffer;
    if (buffer !== this.viewed) {
      this.viewed = buffer;
      this.bytes = new Uint8Array(buffer);
      this.view = new DataView(buffer);
    }
    return this.bytes;
  }

  /** Logs the batch's input, as the host wrote it into the module's memory; checkpoints first if the log is full. */
  private capture(n: number): Entry {
    const memory = this.memory();
    const view = this.view;
    const segments: number[] = [];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const at = this.layout.evRing + i * 16;
      if (!carriesBytes(view.getUint32(at, true))) continue;
      const ptr = view.getUint32(at + 8, true);
      const length = view.getUint32(at + 12, true);
      if (length === 0) continue;
      const last = segments.length - 2;
      if (last >= 0 && segments[last] + segments[last + 1] === ptr) segments[last + 1] += length;
      else segments.push(ptr, length);
      total += length;
    }
    if (!this.checkpoint || this.used + n * 16 + total + this.layout.subCap * 16 > this.log.length) this.restartLog();
    const [nowMs, unixSeconds] = readClock(view, this.instance.header);
    const records = this.used;
    copyOut(memory, this.layout.evRing, n * 16, this.log, records);
    const bytes = records + n * 16;
    let at = bytes;
    for (let k = 0; k < segments.length; k += 2) {
      copyOut(memory, segments[k], segments[k + 1], this.log, at);
      at += segments[k + 1];
    }
    this.used = at;
    return { nowMs, unixSeconds, n, records, bytes, segments, submissions: 0, m: 0, fingerprint: 0 };
  }

  private logOutput(entry: Entry, m: number): void {
    const memory = this.memory();
    entry.submissions = this.used;
    entry.m = m;
    copyOut(memory, this.layout.subRing, m * 16, this.log, this.used);
    this.used += m * 16;
    entry.fingerprint = outputFingerprint(memory, this.log, entry.submissions, this.used);
    this.entries.push(entry);
  }

  /** A checkpoint of the instance as it is now; the log starts empty from it. */
  private restartLog(): void {
    this.checkpoint = takeCheckpoint(this.instance.memory, this.instance.exports, this.checkpoint);
    this.entries = [];
    this.used = 0;
  }

  /** Undoes the trapping batch and runs it again without its poisoned input; throws when that cannot be done. */
  private recover(err: Error, entry: Entry): number {
    const view = new DataView(this.instance.memory.buffer);
    const index = view.getUint32(this.instance.header + H_CURRENT, true);
    const hookOf = view.getUint32(this.instance.header + H_CURRENT_CONN, true);
    // A record's input, or the hook of a connection outside records (a timer, a call's timeout).
    const conn = index < entry.n ? this.log.readUInt32LE(entry.records + index * 16 + 4) : hookOf;
    if (conn === 0) throw err; // no one connection's: a sweep, the flush, a server-wide event
    if (index >= entry.n && entry.n >= this.layout.eventCapacity) throw err; // no room to put its error first
    const now = Date.now();
    this.recoveries = this.recoveries.filter((t) => now - t < RECOVERY_WINDOW_MS);
    if (this.recoveries.length >= MAX_RECOVERIES) {
      throw new Error(`${err.message} (the ${MAX_RECOVERIES + 1}th trap within ${RECOVERY_WINDOW_MS / 1000} s: the instance restarts)`);
    }
    this.recoveries.push(now);
    const started = performance.now();
    const batchesRerun = this.entries.length;
    this.rewind();
    const error = Buffer.alloc(16);
    error.writeUInt32LE(EV.ERROR, 0);
    error.writeUInt32LE(conn, 4);
    error.writeUInt32LE(ECONNABORTED, 8);
    const records = Buffer.from(this.log.subarray(entry.records, entry.records + entry.n * 16));
    // The poisoned record becomes an error on its connection; for a hook outside records,
    // the error goes first, so the connection is closed before its timer could fire.
    const cured = index < entry.n ? (error.copy(records, index * 16), records) : Buffer.concat([error, records]);
    this.write(entry, cured);
    const m = this.instance.dispatch(cured.length / 16); // a second trap goes up: the instance restarts
    this.onIsolated({ error: err, connection: conn, recoveryMs: performance.now() - started, batchesRerun });
    return m;
  }

  /** Restores the checkpoint and runs the logged batches again, checking they do what they did. */
  private rewind(): void {
    const { memory, exports } = this.instance;
    const checkpoint = this.checkpoint!;
    restoreCheckpoint(memory, exports, checkpoint);
    new Uint8Array(memory.buffer).fill(0, checkpoint.memory.length); // as memory grown afresh would be
    for (const [i, logged] of this.entries.entries()) {
      this.write(logged);
      const m = this.instance.dispatch(logged.n);
      const again = new Uint8Array(memory.buffer, this.layout.subRing, m * 16);
      const before = this.log.subarray(logged.submissions, logged.submissions + logged.m * 16);
      if (!before.equals(again) || outputFingerprint(new Uint8Array(memory.buffer), again, 0, again.length) !== logged.fingerprint) {
        throw new Error(`the module is not deterministic: batch ${i + 1} of ${this.entries.length} since the checkpoint `
          + "did not do again what it did; the instance restarts");
      }
    }
  }

  /** Writes a logged batch's input back where the host had put it (with `records` instead of its own, if given). */
  private write(entry: Entry, records = this.log.subarray(entry.records, entry.records + entry.n * 16)): void {
    const memory = new Uint8Array(this.instance.memory.buffer);
    writeClock(this.instance.memory, this.instance.header, entry.nowMs, entry.unixSeconds);
    memory.set(records, this.layout.evRing);
    let at = entry.bytes;
    for (let k = 0; k < entry.segments.length; k += 2) {
      memory.set(this.log.subarray(at, at + entry.segments[k + 1]), entry.segments[k]);
      at += entry.segments[k + 1];
    }
  }
}

const SPOT_BYTES = 16;

/**
 * A spot check of what a batch sent: the first and last bytes of every send, folded.
 * Reading all of them would cost as much as sending them; a module whose state escaped
 * the checkpoint shows in what its answers start or end with, far more often than not.
 */
function outputFingerprint(memory: Uint8Array, submissions: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i += 16) {
    const op = u32(submissions, i);
    if (op !== OP.SEND && op !== OP.SEND_NOTIFY) continue;
    const at = u32(submissions, i + 8);
    const len = u32(submissions, i + 12);
    const head = Math.min(len, SPOT_BYTES);
    for (let k = 0; k < head; k++) h = Math.imul(h ^ memory[at + k], 0x01000193);
    for (let k = Math.max(head, len - SPOT_BYTES); k < len; k++) h = Math.imul(h ^ memory[at + k], 0x01000193);
  }
  return h >>> 0;
}

/** A little-endian u32 of a byte array (no DataView to make per call). */
function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 | bytes[at + 3] << 24) >>> 0;
}

/** Copies `length` bytes at `from` of the memory into the log at `to` (Buffer.copy: no subarray made per call). */
function copyOut(memory: Uint8Array, from: number, length: number, log: Buffer, to: number): void {
  Buffer.prototype.copy.call(memory, log, to, from, from + length);
}

/** Whether an event type carries bytes (a, b) in module memory: a bit per type, not a list search per record. */
const WITH_BYTES = EVENTS_WITH_BYTES.reduce((mask, ev) => mask | (1 << ev), 0);
const carriesBytes = (type: number): boolean => type < 32 && (WITH_BYTES & (1 << type)) !== 0;
