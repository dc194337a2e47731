// Replaying a trace (docs/TRACE.md): a fresh instance gets the recorded inputs, and
// every output record and sent byte must match. The first difference is reported with
// its batch, connection and byte offset in that connection's output.
import { readFileSync } from "node:fs";
import { EV, EVENTS_WITH_BYTES, OP, readLayout, SLOT_MASK, SUBMISSIONS_WITH_BYTES, writeClock } from "./door.js";
import { restoreCheckpoint, type Checkpoint } from "./checkpoint.js";
import type { ModuleInstance } from "./module.js";
import { moduleDigest, startIsolatedInstance, type TraceHeader } from "./trace.js";

export class TraceError extends Error {}

const MAGIC = "WRTRACE\0";
// The records whose bytes a trace carries: what came in, and what went out.
const INPUT_PAYLOADS = EVENTS_WITH_BYTES;
const OUTPUT_PAYLOADS = SUBMISSIONS_WITH_BYTES;

interface Frame {
  trapped: boolean;
  index: number;
  nowMs: number;
  unixSeconds: number;
  events: Buffer;
  data: Buffer[];
  submissions: Buffer;
  sent: Buffer[];
  trap: string;
}

export interface Divergence {
  batch: number;
  connection: number;
  slot: number;
  byteOffset: number | undefined;
  detail: string;
}

export interface ReplayResult {
  header: TraceHeader;
  batches: number;
  traps: string[];
  moduleMatches: boolean;
  divergence: Divergence | undefined;
}

/** A cursor over the file that names where it ran out. */
class Reader {
  pos = 0;
  constructor(readonly buf: Buffer, private readonly path: string) {}
  need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) {
      throw new TraceError(`${this.path}: truncated at byte ${this.buf.length} (reading ${what})`);
    }
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
}

/** The bytes each record of `ops` carries, in record order. */
function payloads(r: Reader, records: Buffer, ops: number[], what: string): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < records.length / 16; i++) {
    if (ops.includes(records.readUInt32LE(i * 16))) out.push(r.bytes(records.readUInt32LE(i * 16 + 12), what));
  }
  return out;
}

export interface Trace {
  header: TraceHeader;
  /** Flight-recorder traces start from a checkpoint taken before batch `firstBatch`. */
  checkpoint: Checkpoint | undefined;
  firstBatch: number;
  frames: Frame[];
}

export function readTrace(path: string): Trace {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new TraceError(`${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
  }
  const r = new Reader(buf, path);
  if (buf.length < 8 || buf.toString("latin1", 0, 8) !== MAGIC) throw new TraceError(`${path}: not a wasm-reactor trace`);
  r.pos = 8;
  const version = r.u32("the version");
  if (version !== 2) throw new TraceError(`${path}: trace version ${version} is not supported (this build reads 2)`);
  let header: TraceHeader;
  try {
    header = JSON.parse(r.bytes(r.u32("the header length"), "the header").toString("utf8"));
  } catch (err) {
    if (err instanceof TraceError) throw err;
    throw new TraceError(`${path}: the header is not valid JSON`);
  }
  const frames: Frame[] = [];
  let checkpoint: Checkpoint | undefined;
  let firstBatch = 0;
  if (r.buf[r.pos] === 0x03) {
    r.pos++;
    firstBatch = r.u32("the checkpoint");
    const memory = Buffer.from(r.bytes(r.u32("the checkpoint"), "the checkpoint's memory"));
    let globals: Record<string, number>;
    try {
      globals = JSON.parse(r.bytes(r.u32("the checkpoint"), "the checkpoint's globals").toString("utf8"));
    } catch (err) {
      if (err instanceof TraceError) throw err;
      throw new TraceError(`${path}: the checkpoint's globals are not valid JSON`);
    }
    checkpoint = { memory, globals };
  }
  for (;;) {
    const at = r.pos;
    const kind = r.u8("a frame");
    if (kind === 0xff) {
      const count = r.u32("the end frame");
      if (count !== firstBatch + frames.length || !r.done) throw new TraceError(`${path}: corrupt end frame at byte ${at}`);
      return { header, checkpoint, firstBatch, frames };
    }
    if (kind !== 0x01 && kind !== 0x02) throw new TraceError(`${path}: corrupt trace: unknown frame kind ${kind} at byte ${at}`);
    const due = firstBatch + frames.length;
    const what = `batch ${due}`;
    const index = r.u32(what);
    if (index !== due) throw new TraceError(`${path}: corrupt trace: batch ${index} where ${due} was due, at byte ${at}`);
    const nowMs = r.u32(what);
    const unixSeconds = r.u32(what);
    const events = r.bytes(r.u32(what) * 16, what);
    const data = payloads(r, events, INPUT_PAYLOADS, what);
    if (kind === 0x02) {
      const trap = r.bytes(r.u32(what), what).toString("utf8");
      frames.push({ trapped: true, index, nowMs, unixSeconds, events, data, submissions: Buffer.alloc(0), sent: [], trap });
    } else {
      const submissions = r.bytes(r.u32(what) * 16, what);
      const sent = payloads(r, submissions, OUTPUT_PAYLOADS, what);
      frames.push({ trapped: false, index, nowMs, unixSeconds, events, data, submissions, sent, trap: "" });
    }
  }
}

function feed(instance: ModuleInstance, frame: Frame): void {
  const layout = readLayout(instance.memory, instance.header);
  const memory = new Uint8Array(instance.memory.buffer);
  let d = 0;
  for (let i = 0; i < frame.events.length / 16; i++) {
    if (!INPUT_PAYLOADS.includes(frame.events.readUInt32LE(i * 16))) continue;
    const at = frame.events.readUInt32LE(i * 16 + 8);
    if (at + frame.data[d].length > memory.length) throw new TraceError(`batch ${frame.index}: DATA outside the module's memory`);
    memory.set(frame.data[d++], at);
  }
  memory.set(frame.events, layout.evRing);
  writeClock(instance.memory, instance.header, frame.nowMs, frame.unixSeconds);
}

/** Replays a trace against the module it was recorded with, or against `moduleFile` (a user's module). */
export function replayTrace(path: string, moduleFile?: string): ReplayResult {
  const { header, frames, checkpoint } = readTrace(path);
  const { module: _module, host: _host, recordedAt: _recordedAt, ...recorded } = header;
  const config = moduleFile === undefined ? recorded : { ...recorded, protocol: "module" as const, moduleFile };
  const result: ReplayResult = { header, batches: 0, traps: [], moduleMatches: header.module === moduleDigest(config), divergence: undefined };
  const sentSoFar = new Map<number, number>(); // bytes each connection had sent before this batch
  const start = () => startIsolatedInstance(config, ({ error, connection }) => result.traps.push(`${error.message} (isolated: connection ${connection} closed)`));
  let instance = start();
  if (checkpoint) restoreCheckpoint(instance.memory, instance.exports, checkpoint);
  for (const frame of frames) {
    result.batches++;
    feed(instance, frame);
    // A short send's remainder will be sent again: offsets count bytes that left.
    for (let i = 0; i < frame.events.length / 16; i++) {
      if (frame.events.readUInt32LE(i * 16) !== EV.SENT) continue;
      const conn = frame.events.readUInt32LE(i * 16 + 4);
      sentSoFar.set(conn, (sentSoFar.get(conn) ?? 0) - frame.events.readUInt32LE(i * 16 + 12));
    }
    const diverge = (connection: number, byteOffset: number | undefined, detail: string): ReplayResult => {
      result.divergence = { batch: frame.index, connection, slot: connection & SLOT_MASK, byteOffset, detail };
      return result;
    };
    let m: number;
    try {
      m = instance.dispatch(frame.events.length / 16);
    } catch (err) {
      const message = (err as Error).message;
      if (!frame.trapped) return diverge(0, undefined, `the module trapped (${message}); the recording did not`);
      if (message !== frame.trap) return diverge(0, undefined, `trapped with "${message}", recorded "${frame.trap}"`);
      result.traps.push(message);
      instance = start(); // as the host did
      continue;
    }
    if (frame.trapped) return diverge(0, undefined, `the recording trapped (${frame.trap}); the replay did not`);
    const layout = readLayout(instance.memory, instance.header);
    const memory = Buffer.from(instance.memory.buffer);
    const expected = frame.submissions.length / 16;
    let s = 0;
    for (let i = 0; i < Math.max(m, expected); i++) {
      if (i >= m || i >= expected) {
        const conn = frame.submissions.readUInt32LE(Math.min(i, expected - 1) * 16 + 4);
        return diverge(conn, undefined, `${m} submissions, recorded ${expected}`);
      }
      const got = memory.subarray(layout.subRing + i * 16, layout.subRing + i * 16 + 16);
      const want = frame.submissions.subarray(i * 16, i * 16 + 16);
      const [op, conn] = [want.readUInt32LE(0), want.readUInt32LE(4)];
      const before = sentSoFar.get(conn) ?? 0;
      if (got.readUInt32LE(0) !== op || got.readUInt32LE(4) !== conn) {
        return diverge(conn, before, `submission ${i} is op ${got.readUInt32LE(0)} for ${got.readUInt32LE(4)}, recorded op ${op} for ${conn}`);
      }
      if (op === OP.INTEREST && got.readUInt32LE(8) !== want.readUInt32LE(8)) {
        return diverge(conn, before, `interest ${got.readUInt32LE(8)}, recorded ${want.readUInt32LE(8)}`);
      }
      if (!OUTPUT_PAYLOADS.includes(op)) continue;
      const recorded = frame.sent[s++];
      const actual = memory.subarray(got.readUInt32LE(8), got.readUInt32LE(8) + got.readUInt32LE(12));
      const n = Math.min(recorded.length, actual.length);
      let k = 0;
      while (k < n && recorded[k] === actual[k]) k++;
      if (k < n || recorded.length !== actual.length) {
        return diverge(conn, before + k, k < n
          ? `sent byte 0x${actual[k].toString(16).padStart(2, "0")}, recorded 0x${recorded[k].toString(16).padStart(2, "0")}`
          : `sent ${actual.length} bytes, recorded ${recorded.length}`);
      }
      if (op === OP.SEND || op === OP.SEND_NOTIFY) sentSoFar.set(conn, before + n); // offsets count bytes on the wire
    }
  }
  return result;
}
