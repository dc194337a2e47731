// A checkpoint of a module instance: its linear memory and its exported state
// globals (the module keeps nothing else: assembly/alloc.ts). Restoring one into a
// fresh instance of the same build and configuration resumes exactly where it was.

export interface Checkpoint {
  memory: Buffer;
  /** Each state global's value; an i64's as a decimal string ending in "n" (so that a checkpoint is plain JSON). */
  globals: Record<string, number | string>;
}

const PREFIX = "state_";

function stateGlobals(exports: WebAssembly.Exports): [string, WebAssembly.Global][] {
  return Object.entries(exports)
    .filter(([name, value]) => name.startsWith(PREFIX) && value instanceof WebAssembly.Global) as [string, WebAssembly.Global][];
}

/** A checkpoint; into `reuse`'s memory copy when it is the same size (no new allocation). */
export function takeCheckpoint(memory: WebAssembly.Memory, exports: WebAssembly.Exports, reuse?: Checkpoint): Checkpoint {
  const globals: Record<string, number | string> = {};
  for (const [name, g] of stateGlobals(exports)) {
    const value = g.value as number | bigint;
    globals[name] = typeof value === "bigint" ? `${value}n` : value;
  }
  const bytes = new Uint8Array(memory.buffer);
  if (reuse && reuse.memory.length === bytes.length) {
    reuse.memory.set(bytes);
    return { memory: reuse.memory, globals };
  }
  return { memory: Buffer.from(bytes.slice()), globals };
}

export function restoreCheckpoint(memory: WebAssembly.Memory, exports: WebAssembly.Exports, cp: Checkpoint): void {
  const missing = cp.memory.length - memory.buffer.byteLength;
  if (missing > 0) memory.grow(Math.ceil(missing / 65536));
  new Uint8Array(memory.buffer).set(cp.memory);
  for (const [name, g] of stateGlobals(exports)) {
    if (!(name in cp.globals)) throw new Error(`checkpoint lacks ${name}: it was taken from another build`);
    const value = cp.globals[name];
    g.value = typeof value === "string" ? BigInt(value.slice(0, -1)) : value;
  }
}
