// Size-class allocator for connection buffers and tables.
//
// Blocks are powers of two, 64 B to 1 GiB. A freed block goes on the free list of
// its class and is handed out again; memory itself comes from the runtime's bump
// heap (heap.alloc), which grows linear memory when it runs out. The stub runtime
// cannot free anything but its last block, so reuse has to happen here.

const MIN_SHIFT: u32 = 6;
const CLASSES: u32 = 25; // 2^6 .. 2^30

// Head of each class's free list; a free block's first word links to the next.
const freeHeads = memory.data(CLASSES * 4);

let bytesReserved: usize = 0;

export function classOf(size: usize): u32 {
  const s = max<usize>(size, 1 << MIN_SHIFT);
  return 32 - clz<u32>(<u32>s - 1) - MIN_SHIFT;
}

export function classBytes(cls: u32): usize {
  return (<usize>1) << (cls + MIN_SHIFT);
}

/** A block of at least `size` bytes; its class must be passed back to freeBlock. */
export function allocBlock(size: usize): usize {
  const cls = classOf(size);
  assert(cls < CLASSES, "allocation too large");
  const head = freeHeads + cls * 4;
  const block = load<u32>(head);
  if (block != 0) {
    store<u32>(head, load<u32>(block));
    return block;
  }
  bytesReserved += classBytes(cls);
  return heap.alloc(classBytes(cls));
}

export function freeBlock(block: usize, cls: u32): void {
  const head = freeHeads + cls * 4;
  store<u32>(block, load<u32>(head));
  store<u32>(head, <u32>block);
}

/** Bytes taken from the heap by this allocator so far (blocks are reused, never returned). */
export function reservedBytes(): usize {
  return bytesReserved;
}
