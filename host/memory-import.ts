// How many pages of memory a module asks the host for: the minimum of its env.memory
// import, read from the binary's import section (the JS API does not tell). A handler
// with more static data than one page declares more, and gets it.

/** Reads an unsigned LEB128 at `at`; returns [value, next offset]. */
function leb(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return [value, at];
  }
}

function name(bytes: Uint8Array, at: number): [string, number] {
  const [length, start] = leb(bytes, at);
  return [Buffer.from(bytes.subarray(start, start + length)).toString("utf8"), start + length];
}

const IMPORT_SECTION = 2;
const KIND_MEMORY = 2;
const SKIP_BY_KIND: Record<number, (bytes: Uint8Array, at: number) => number> = {
  0: (b, at) => leb(b, at)[1], // function: a type index
  1: (b, at) => limits(b, at + 1)[1], // table: element type, limits
  3: (b, at) => at + 2, // global: value type, mutability
};

function limits(bytes: Uint8Array, at: number): [number, number] {
  const flags = bytes[at];
  const [min, next] = leb(bytes, at + 1);
  return [min, flags & 1 ? leb(bytes, next)[1] : next];
}

/** The module's env.memory minimum in 64 KiB pages (1 if it imports none). */
export function importedMemoryPages(bytes: Uint8Array): number {
  let at = 8; // magic and version
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, content] = leb(bytes, at + 1);
    if (id === IMPORT_SECTION) {
      let [count, p] = leb(bytes, content);
      while (count-- > 0) {
        const [module, afterModule] = name(bytes, p);
        const [field, afterField] = name(bytes, afterModule);
        const kind = bytes[afterField];
        if (kind === KIND_MEMORY) {
          const [min] = limits(bytes, afterField + 1);
          if (module === "env" && field === "memory") return Math.max(min, 1);
          p = limits(bytes, afterField + 1)[1];
        } else {
          p = SKIP_BY_KIND[kind](bytes, afterField + 1);
        }
      }
      return 1;
    }
    at = content + size;
  }
  return 1;
}
