// Loading the WebAssembly module and starting an instance of it on a fresh memory.
// The host owns the memory (the module imports it), so after a trap a new instance
// starts on new memory and nothing of the old one can leak into it.
import { instantiateSync } from "@assemblyscript/loader";
import { readFileSync } from "node:fs";
import { wasmPath } from "./paths.js";

export const PROTOCOLS = { echo: 1, line: 2 } as const;
export type Protocol = keyof typeof PROTOCOLS;

export interface ModuleConfig {
  protocol: Protocol;
  /** Event records per batch (the submission ring holds twice as many). */
  eventCapacity: number;
  /** Bytes the host may read per batch; the arena holds two halves. */
  arenaHalfBytes: number;
  maxLineLength: number;
  /** Fault injection: the module aborts on a read starting with TRAP_MAGIC. */
  trapOnMagic?: boolean;
}

/** With trapOnMagic, a read that starts with these bytes makes the module abort. */
export const TRAP_MAGIC = "wasm-reactor:trap!";
const INIT_TRAP_ON_MAGIC = 1;

type ReactorExports = {
  memory: WebAssembly.Memory;
  init(protocol: number, evCap: number, arenaHalf: number, maxLine: number, flags: number): number;
  dispatch(n: number): number;
  connectionBytes(): number;
};

export interface ModuleInstance {
  memory: WebAssembly.Memory;
  /** All exports, for checkpoints (host/checkpoint.ts). */
  exports: WebAssembly.Exports;
  dispatch: (n: number) => number;
  header: number;
  connectionBytes: () => number;
}

let compiled: WebAssembly.Module | undefined;

function compiledModule(): WebAssembly.Module {
  if (!compiled) {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(readFileSync(wasmPath));
    } catch {
      throw new Error(`wasm-reactor: ${wasmPath} is missing; run npm install (or npm run build)`);
    }
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

export function startInstance(config: ModuleConfig): ModuleInstance {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const { exports } = instantiateSync<ReactorExports>(compiledModule(), { env: { memory } });
  const header = exports.init(
    PROTOCOLS[config.protocol], config.eventCapacity, config.arenaHalfBytes, config.maxLineLength,
    config.trapOnMagic ? INIT_TRAP_ON_MAGIC : 0,
  );
  return { memory, exports: exports as unknown as WebAssembly.Exports, dispatch: exports.dispatch, header,
    connectionBytes: exports.connectionBytes };
}
