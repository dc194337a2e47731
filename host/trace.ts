// Recording and replaying what crosses the door (format: docs/TRACE.md).
// Recording wraps an instance's dispatch, so every host records the same way: the
// native host's C++ loop calls whatever dispatch it was attached with.
import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { takeCheckpoint, type Checkpoint } from "./checkpoint.js";
import { EVENTS_WITH_BYTES, readClock, readLayout, SLOT_MASK, SUBMISSIONS_WITH_BYTES, type Layout } from "./door.js";
import { modulePath, startInstance, type ModuleConfig, type ModuleInstance } from "./module.js";
import { isolated, type IsolatedTrap } from "./rollback.js";

const MAGIC = Buffer.from("WRTRACE\0", "latin1");
const VERSION = 2;
const FRAME_BATCH = 0x01;
const FRAME_TRAP = 0x02;
const FRAME_CHECKPOINT = 0x03;
const FRAME_END = 0xff;
const FLUSH_BYTES = 1 << 20;

export interface TraceHeader extends ModuleConfig {
  module: string;
  host: string;
  recordedAt: string;
}

const digests = new Map<string, string>();

/** The SHA-256 of the module file a config runs: a trace names the build it was recorded with. */
export function moduleDigest(config: Pick<ModuleConfig, "protocol">): string {
  const file = modulePath(config);
  let digest = digests.get(file);
  if (!digest) {
    digest = createHash("sha256").update(readFileSync(file)).digest("hex");
    digests.set(file, digest);
  }
  return digest;
}

/**
 * Builds trace frames from what crosses the door; a frame is handed to commit() only
 * once it is whole (its kind is settled after dispatch: batch or trap).
 */
abstract class FrameRecorder {
  protected batches = 0;
  private parts: Buffer[] = [];
  private kind = Buffer.alloc(1);

  constructor(protected readonly header: TraceHeader) {}

  protected abstract commit(frame: Buffer): void;

  /** Called before each batch's inputs, with the instance about to dispatch it. */
  abstract beforeBatch(instance: ModuleInstance): void;

  protected headerBytes(): Buffer {
    const json = Buffer.from(JSON.stringify(this.header));
    return Buffer.concat([MAGIC, u32(VERSION), u32(json.length), json]);
  }

  protected endFrame(): Buffer {
    return Buffer.concat([Buffer.from([FRAME_END]), u32(this.batches)]);
  }

  /** The inputs of one batch: the clock, the records and the bytes of its DATA events. */
  input(memory: ArrayBuffer, header: number, layout: Layout, n: number): void {
    const records = Buffer.from(memory, layout.evRing, n * 16);
    const [nowMs, unixSeconds] = readClock(memory, header);
    this.kind = Buffer.from([FRAME_BATCH]);
    this.parts = [this.kind, u32(this.batches), u32(nowMs), u32(unixSeconds), u32(n), Buffer.from(records)];
    this.copyPayloads(memory, records, EVENTS_WITH_BYTES);
  }

  /** The outputs of the same batch: submissions and the bytes each send named. */
  output(memory: ArrayBuffer, layout: Layout, m: number): void {
    const records = Buffer.from(Buffer.from(memory, layout.subRing, m * 16));
    this.parts.push(u32(m), records);
    this.copyPayloads(memory, records, SUBMISSIONS_WITH_BYTES);
    this.settle();
  }

  /** The batch whose inputs were just taken trapped instead of answering. */
  trap(message: string): void {
    this.kind[0] = FRAME_TRAP;
    const text = Buffer.from(message);
    this.parts.push(u32(text.length), text);
    this.settle();
  }

  private copyPayloads(memory: ArrayBuffer, records: Buffer, ops: number[]): void {
    for (let i = 0; i < records.length / 16; i++) {
      if (!ops.includes(records.readUInt32LE(i * 16))) continue;
      this.parts.push(Buffer.from(Buffer.from(memory, records.readUInt32LE(i * 16 + 8), records.readUInt32LE(i * 16 + 12))));
    }
  }

  private settle(): void {
    this.batches++;
    this.commit(Buffer.concat(this.parts));
    this.parts = [];
  }
}

/** Records every batch to a file, from the first; complete once end() has run. */
export class TraceWriter extends FrameRecorder {
  private readonly fd: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;

  constructor(readonly path: string, header: TraceHeader) {
    super(header);
    this.fd = openSync(path, "w");
    this.commit(this.headerBytes());
  }

  beforeBatch(): void {}

  protected commit(frame: Buffer): void {
    this.chunks.push(frame);
    this.buffered += frame.length;
    if (this.buffered >= FLUSH_BYTES) this.flush();
  }

  override trap(message: string): void {
    super.trap(message);
    this.flush(); // what led to a trap is worth having on disk at once
  }

  private flush(): void {
    if (this.chunks.length === 0) return;
    writeSync(this.fd, Buffer.concat(this.chunks, this.buffered));
    this.chunks = [];
    this.buffered = 0;
  }

  /** Writes the end frame: from now on the file is complete. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.commit(this.endFrame());
    this.flush();
    closeSync(this.fd);
  }
}

interface Window {
  instance: ModuleInstance;
  firstBatch: number;
  checkpoint: Checkpoint;
  frames: Buffer[];
}

/**
 * The flight recorder: keeps only the recent past in memory (at least `batches`
 * batches, at most twice that, from a checkpoint of the module) and writes it out as a
 * replayable trace when the module traps. Files: path, then path-2.wrt, path-3.wrt, …
 */
export class FlightRecorder extends FrameRecorder {
  private previous: Window | undefined;
  private current: Window | undefined;
  private dumps = 0;
  readonly written: string[] = [];

  constructor(readonly path: string, readonly batchesKept: number, header: TraceHeader) {
    super(header);
  }

  beforeBatch(instance: ModuleInstance): void {
    const fresh = this.current?.instance !== instance; // first batch, or a new instance after a trap
    if (fresh) this.previous = undefined;
    if (fresh || this.batches - this.current!.firstBatch >= this.batchesKept) {
      if (!fresh) this.previous = this.current;
      this.current = { instance, firstBatch: this.batches, frames: [],
        checkpoint: takeCheckpoint(instance.memory, instance.exports) };
    }
  }

  protected commit(frame: Buffer): void {
    this.current!.frames.push(frame);
  }

  override trap(message: string): void {
    super.trap(message);
    this.dump();
  }

  /** Writes the window as a trace: header, checkpoint, the batches since, end. */
  dump(): string {
    const from = this.previous ?? this.current!;
    const frames = [...(this.previous?.frames ?? []), ...this.current!.frames];
    const memory = from.checkpoint.memory;
    const globals = Buffer.from(JSON.stringify(from.checkpoint.globals));
    const checkpoint = Buffer.concat([Buffer.from([FRAME_CHECKPOINT]), u32(from.firstBatch), u32(memory.length), memory,
      u32(globals.length), globals]);
    this.dumps++;
    const file = this.dumps === 1 ? this.path : this.path.replace(/(\.wrt)?$/, `-${this.dumps}.wrt`);
    writeFileSync(file, Buffer.concat([this.headerBytes(), checkpoint, ...frames, this.endFrame()]));
    this.written.push(file);
    return file;
  }
}

function u32(v: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

export type Recorder = TraceWriter | FlightRecorder;

/**
 * A fresh instance: its traps isolated to one connection each when the config says so
 * (`onIsolated` hears of each), recorded if a recorder is given.
 */
export function startRecordedInstance(config: ModuleConfig, writer: Recorder | undefined,
  onIsolated: (trap: IsolatedTrap) => void = () => {}): ModuleInstance {
  const instance = startIsolatedInstance(config, onIsolated);
  return writer ? recorded(instance, writer) : instance;
}

/** A fresh instance, with rollback isolation when the config asks for it. */
export function startIsolatedInstance(config: ModuleConfig, onIsolated: (trap: IsolatedTrap) => void): ModuleInstance {
  const instance = startInstance(config);
  return config.isolateTraps ? isolated(instance, onIsolated) : instance;
}

/** The same instance, with every dispatch recorded into the writer. */
export function recorded(instance: ModuleInstance, writer: Recorder): ModuleInstance {
  const layout = readLayout(instance.memory, instance.header);
  const dispatch = instance.dispatch;
  const wrapped: ModuleInstance = {
    ...instance,
    dispatch: (n: number) => {
      writer.beforeBatch(wrapped);
      writer.input(instance.memory.buffer, instance.header, layout, n);
      let m: number;
      try {
        m = dispatch(n);
      } catch (err) {
        writer.trap((err as Error).message);
        throw err;
      }
      writer.output(instance.memory.buffer, layout, m);
      return m;
    },
  };
  return wrapped;
}
