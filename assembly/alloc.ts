// The module's heap: a bump region for what lives as long as the instance (rings,
// arena), and size-class blocks for connection buffers and tables.
//
// Blocks are powers of two, 64 B to 1 GiB. A freed block goes on the free list of
// its class and is handed out again. Everything comes from one bump pointer that grows
// linear memory when it runs out; the AssemblyScript runtime itself never allocates,
// so the module's whole state is linear memory plus the exported state globals, and a
// copy of both is a complete checkpoint (host/checkpoint.ts).

const MIN_SHIFT: u32 = 6;
const CLASSES: u32 = 25; // 2^6 .. 2^30

// Head of each class's free list; a free block's first word links to the next.
const freeHeads = memory.data(CLASSES * 4);

const ALIGN: usize = 16;

export let bytesReserved: usize = 0;
export let heapTop: usize = 0;

/** Memory that is never freed, 16-byte aligned; grows linear memory as needed. */
export function bump(size: usize): usize {
  if (heapTop == 0) heapTop = (__heap_base + ALIGN - 1) & ~(ALIGN - 1);
  const ptr = heapTop;
  heapTop = (ptr + size + ALIGN - 1) & ~(ALIGN - 1);
  const have = <usize>memory.size() << 16;
  if (heapTop > have) {
    const pages = <i32>((heapTop - have + 0xffff) >>> 16);
    // Double when we can (fewer grows, fewer detached buffers for the host); else exactly.
    if (memory.grow(max(pages, memory.size())) < 0 && memory.grow(pages) < 0) unreachable();
  }
  return ptr;
}

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
  return bump(classBytes(cls));
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
