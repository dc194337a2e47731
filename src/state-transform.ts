// The AssemblyScript transform `wasm-reactor build` runs so that a checkpoint holds all of
// a handler module's state: every mutable global not exported yet (a top-level `let` in
// the handler's files, say) is exported as `state_<its name>`, which host/checkpoint.ts
// saves and restores with the memory. Rollback isolation and flight recordings then work
// for handlers that keep state in globals, not only in linear memory.
import { Transform } from "assemblyscript/transform";

/** The parts of binaryen's module API this transform uses. */
interface BinaryenModule {
  getNumExports(): number;
  getExportByIndex(index: number): number;
  getNumGlobals(): number;
  getGlobalByIndex(index: number): number;
  addGlobalExport(internalName: string, externalName: string): number;
}

export default class StateTransform extends Transform {
  afterCompile(module: BinaryenModule): void {
    // asc hands every transform binaryen's API (its typings miss it on the class).
    const api = (this as unknown as { binaryen: unknown }).binaryen as {
      ExternalGlobal: number;
      getExportInfo(ref: number): { kind: number; value: string };
      getGlobalInfo(ref: number): { name: string; module: string | null; mutable: boolean };
    };
    const exported = new Set<string>();
    for (let i = 0; i < module.getNumExports(); i++) {
      const info = api.getExportInfo(module.getExportByIndex(i));
      if (info.kind === api.ExternalGlobal) exported.add(info.value);
    }
    for (let i = 0; i < module.getNumGlobals(); i++) {
      const info = api.getGlobalInfo(module.getGlobalByIndex(i));
      if (!info.mutable || info.module || exported.has(info.name)) continue;
      module.addGlobalExport(info.name, `state_${info.name}`);
    }
  }
}
