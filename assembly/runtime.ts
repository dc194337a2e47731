// The module's heap and its AssemblyScript runtime (asconfig.json "runtime"): one
// allocator for everything, the core's rings and buffers (through alloc.ts) and a
// handler's strings, arrays and objects (through the runtime interface below).
//
// Why here: asc compiles the runtime file once, by its path, while the core may be
// compiled under another name (a user's handler imports it as
// ~lib/wasm-reactor/assembly/…), so an allocator in a core file could exist twice, two
// heaps growing over each other. The core reaches this one through @global names, which
// are the same in every build. Its state lives in linear memory (no mutable globals), so
// memory plus the state globals stays a complete checkpoint.
//
// Blocks are powers of two, 64 B to 1 GiB. A freed block goes on the free list of its
// class and is handed out again. Everything comes from one bump pointer that grows
// linear memory when it runs out.
//
//   runtime block:  class u32 | pad | mmInfo u32 | payload …
//                   0                 12          16 = the pointer __alloc returns
// An object is a payload that starts with the runtime's 16-byte object header (gcInfo,
// gcInfo2, rtId, rtSize), laid out as ~lib/rt/common.ts expects. There is no garbage
// collector, as with the stub runtime: an object lives until freed (the SDK's release()),
// so a handler allocates at start-up, not per event (docs/HANDLERS.md).
//
// asconfig.json sets "stackSize": -1. asc treats any custom runtime as one with a
// garbage collector and gives it a shadow stack (a global stack pointer saved and
// restored around every function that holds a reference: call_indirect through a hook
// is one); it adds that only for a stack size above 0, and fills in 32 KiB for 0.
// A runtime without a collector needs none.

const MIN_SHIFT: u32 = 6;
const CLASSES: u32 = 25; // 2^6 .. 2^30
const ALIGN: usize = 16;

// Heap state: the head of each class's free list (a free block's first word links to
// the next), then the bump pointer and the bytes handed to blocks so far.
const HEAP = memory.data(CLASSES * 4 + 12);
const TOP: usize = CLASSES * 4;
const RESERVED: usize = CLASSES * 4 + 4;
const IN_USE: usize = CLASSES * 4 + 8; // bytes of blocks handed out and not freed

/** Memory that is never freed, 16-byte aligned; grows linear memory as needed. */
// @ts-ignore: decorator
@global export function __heap_bump(size: usize): usize {
  let ptr = <usize>load<u32>(HEAP, TOP);
  if (ptr == 0) ptr = (__heap_base + ALIGN - 1) & ~(ALIGN - 1);
  const top = (ptr + size + ALIGN - 1) & ~(ALIGN - 1);
  store<u32>(HEAP, <u32>top, TOP);
  const have = <usize>memory.size() << 16;
  if (top > have) {
    const pages = <i32>((top - have + 0xffff) >>> 16);
    // Double when we can (fewer grows, fewer detached buffers for the host); else exactly.
    // Past the host's cap (maxMemory) growing fails: the instance traps, saying why.
    if (memory.grow(max(pages, memory.size())) < 0 && memory.grow(pages) < 0) abort("memory cap reached");
  }
  return ptr;
}

/** The size class of a block of at least `size` bytes. */
// @ts-ignore: decorator
@global export function __heap_class(size: usize): u32 {
  const s = max<usize>(size, 1 << MIN_SHIFT);
  return 32 - clz<u32>(<u32>s - 1) - MIN_SHIFT;
}

// @ts-ignore: decorator
@global export function __heap_class_bytes(cls: u32): usize {
  return (<usize>1) << (cls + MIN_SHIFT);
}

/** A block of at least `size` bytes; its class must be passed back to __heap_free_block. */
// @ts-ignore: decorator
@global export function __heap_block(size: usize): usize {
  const cls = __heap_class(size);
  assert(cls < CLASSES, "allocation too large");
  const head = HEAP + cls * 4;
  const block = <usize>load<u32>(head);
  store<u32>(HEAP, load<u32>(HEAP, IN_USE) + <u32>__heap_class_bytes(cls), IN_USE);
  if (block != 0) {
    store<u32>(head, load<u32>(block));
    return block;
  }
  store<u32>(HEAP, load<u32>(HEAP, RESERVED) + <u32>__heap_class_bytes(cls), RESERVED);
  return __heap_bump(__heap_class_bytes(cls));
}

// @ts-ignore: decorator
@global export function __heap_free_block(block: usize, cls: u32): void {
  const head = HEAP + cls * 4;
  store<u32>(block, load<u32>(head));
  store<u32>(head, <u32>block);
  store<u32>(HEAP, load<u32>(HEAP, IN_USE) - <u32>__heap_class_bytes(cls), IN_USE);
}

/** Bytes handed to blocks so far (blocks are reused, never returned). */
// @ts-ignore: decorator
@global export function __heap_reserved(): usize {
  return load<u32>(HEAP, RESERVED);
}

/** Bytes of blocks in use now (handed out, not freed). */
// @ts-ignore: decorator
@global export function __heap_in_use(): usize {
  return load<u32>(HEAP, IN_USE);
}

/** Where the heap ends: memory past it is grown but not yet handed out. */
// @ts-ignore: decorator
@global export function __heap_top(): usize {
  return <usize>load<u32>(HEAP, TOP);
}

// The AssemblyScript runtime interface, on those blocks.
const HEADER: usize = 16; // class word, padding, mmInfo: the payload stays 16-byte aligned
const OBJECT_HEADER: usize = 16;

// @ts-ignore: decorator
@unsafe @global
export function __alloc(size: usize): usize {
  const cls = __heap_class(size + HEADER);
  const block = __heap_block(size + HEADER);
  store<u32>(block, cls);
  store<u32>(block, <u32>(__heap_class_bytes(cls) - HEADER), 12); // mmInfo: the payload's capacity
  return block + HEADER;
}

// @ts-ignore: decorator
@unsafe @global
export function __free(ptr: usize): void {
  const block = ptr - HEADER;
  __heap_free_block(block, load<u32>(block));
}

// @ts-ignore: decorator
@unsafe @global
export function __realloc(ptr: usize, size: usize): usize {
  if (<usize>load<u32>(ptr - 4) >= size) return ptr;
  const bigger = __alloc(size);
  memory.copy(bigger, ptr, <usize>load<u32>(ptr - 4));
  __free(ptr);
  return bigger;
}

// @ts-ignore: decorator
@unsafe @global
export function __new(size: usize, id: u32): usize {
  const ptr = __alloc(OBJECT_HEADER + size);
  store<u32>(ptr, 0, 0); // gcInfo
  store<u32>(ptr, 0, 4); // gcInfo2
  store<u32>(ptr, id, 8); // rtId
  store<u32>(ptr, <u32>size, 12); // rtSize
  return ptr + OBJECT_HEADER;
}

// @ts-ignore: decorator
@unsafe @global
export function __renew(oldPtr: usize, size: usize): usize {
  const ptr = __realloc(oldPtr - OBJECT_HEADER, OBJECT_HEADER + size);
  store<u32>(ptr, <u32>size, 12);
  return ptr + OBJECT_HEADER;
}

// No collector: nothing to link, pin, visit or collect.
// @ts-ignore: decorator
@global @unsafe
export function __link(parentPtr: usize, childPtr: usize, expectMultiple: bool): void {}

// @ts-ignore: decorator
@global @unsafe
export function __pin(ptr: usize): usize {
  return ptr;
}

// @ts-ignore: decorator
@global @unsafe
export function __unpin(ptr: usize): void {}

// @ts-ignore: decorator
@global @unsafe
export function __visit(ptr: usize, cookie: u32): void {}

// @ts-ignore: decorator
@global @unsafe
export function __collect(): void {}
