// Recording and replaying what crosses the door (format: docs/TRACE.md).
// Recording wraps an instance's dispatch, so every host records the same way: the
// native host's C++ loop calls whatever dispatch it was attached with.
import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { EV, OP, readLayout, SLOT_MASK, type Layout } from "./door.js";
import { startInstance, type ModuleConfig, type ModuleInstance } from "./module.js";
import { wasmPath } from "./paths.js";

const MAGIC = Buffer.from("WRTRACE\0", "latin1");
const VERSION = 1;
const FRAME_BATCH = 0x01;
const FRAME_TRAP = 0x02;
const FRAME_END = 0xff;
const FLUSH_BYTES = 1 << 20;

export interface TraceHeader extends ModuleConfig {
  module: string;
  host: string;
  recordedAt: string;
}

let moduleHash: string | undefined;
export function moduleDigest(): string {
  moduleHash ??= createHash("sha256").update(readFileSync(wasmPath)).digest("hex");
  return moduleHash;
}

/** Appends frames to a trace file, buffering writes. */
export class TraceWriter {
  private readonly fd: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private batches = 0;
  private ended = false;
  private kind = Buffer.alloc(1); // the current frame's kind byte, settled when its outcome is known

  constructor(readonly path: string, header: TraceHeader) {
    this.fd = openSync(path, "w");
    const json = Buffer.from(JSON.stringify(header));
    this.put(MAGIC, u32(VERSION), u32(json.length), json);
  }

  // Frames are flushed only whole (see settle), so a frame's kind byte can still change.
  private put(...parts: Buffer[]): void {
    for (const p of parts) {
      this.chunks.push(p);
      this.buffered += p.length;
    }
  }

  private settle(): void {
    this.batches++;
    if (this.buffered >= FLUSH_BYTES) this.flush();
  }

  flush(): void {
    if (this.chunks.length === 0) return;
    writeSync(this.fd, Buffer.concat(this.chunks, this.buffered));
    this.chunks = [];
    this.buffered = 0;
  }

  /** The inputs of one batch: records and the bytes of its DATA events. */
  input(memory: ArrayBuffer, layout: Layout, n: number): void {
    const records = Buffer.from(memory, layout.evRing, n * 16);
    this.kind = Buffer.from([FRAME_BATCH]);
    this.put(this.kind, u32(this.batches), u32(n), Buffer.from(records));
    for (let i = 0; i < n; i++) {
      if (records.readUInt32LE(i * 16) === EV.DATA) {
        this.put(Buffer.from(Buffer.from(memory, records.readUInt32LE(i * 16 + 8), records.readUInt32LE(i * 16 + 12))));
      }
    }
  }

  /** The outputs of the same batch: submissions and the bytes each send named. */
  output(memory: ArrayBuffer, layout: Layout, m: number): void {
    const records = Buffer.from(Buffer.from(memory, layout.subRing, m * 16));
    this.put(u32(m), records);
    for (let i = 0; i < m; i++) {
      const op = records.readUInt32LE(i * 16);
      if (op === OP.SEND || op === OP.SEND_NOTIFY) {
        this.put(Buffer.from(Buffer.from(memory, records.readUInt32LE(i * 16 + 8), records.readUInt32LE(i * 16 + 12))));
      }
    }
    this.settle();
  }

  /** The batch whose inputs were just written trapped instead of answering. */
  trap(message: string): void {
    this.kind[0] = FRAME_TRAP;
    const text = Buffer.from(message);
    this.put(u32(text.length), text);
    this.settle();
    this.flush(); // what led to a trap is worth having on disk at once
  }

  /** Writes the end frame: from now on the file is complete. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.put(Buffer.from([FRAME_END]), u32(this.batches));
    this.flush();
    closeSync(this.fd);
  }
}

function u32(v: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

/** A fresh instance, recorded if a writer is given. */
export function startRecordedInstance(config: ModuleConfig, writer: TraceWriter | undefined): ModuleInstance {
  const instance = startInstance(config);
  return writer ? recorded(instance, writer) : instance;
}

/** The same instance, with every dispatch recorded into the writer. */
export function recorded(instance: ModuleInstance, writer: TraceWriter): ModuleInstance {
  const layout = readLayout(instance.memory, instance.header);
  const dispatch = instance.dispatch;
  return {
    ...instance,
    dispatch: (n: number) => {
      writer.input(instance.memory.buffer, layout, n);
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
}
