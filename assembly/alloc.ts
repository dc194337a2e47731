// The core's view of the module's heap, which runtime.ts owns (one allocator for the
// core and a handler's objects; why it lives there is said at its top): a bump region
// for what lives as long as the instance (rings, arena), and size-class blocks for
// connection buffers and tables.

/** Memory that is never freed, 16-byte aligned; grows linear memory as needed. */
@inline export function bump(size: usize): usize {
  return __heap_bump(size);
}

@inline export function classOf(size: usize): u32 {
  return __heap_class(size);
}

@inline export function classBytes(cls: u32): usize {
  return __heap_class_bytes(cls);
}

/** A block of at least `size` bytes; its class must be passed back to freeBlock. */
@inline export function allocBlock(size: usize): usize {
  return __heap_block(size);
}

@inline export function freeBlock(block: usize, cls: u32): void {
  __heap_free_block(block, cls);
}

/** Bytes taken from the heap for blocks so far (blocks are reused, never returned). */
@inline export function reservedBytes(): usize {
  return __heap_reserved();
}

/**
 * A block of `newBytes` that starts with the `oldBytes` of `old` and is zero after them;
 * `old` (0 for none) is freed. How the core's tables indexed by slot grow.
 */
export function regrow(old: usize, oldBytes: usize, newBytes: usize): usize {
  const bigger = allocBlock(newBytes);
  memory.copy(bigger, old, oldBytes);
  memory.fill(bigger + oldBytes, 0, newBytes - oldBytes);
  if (old != 0) freeBlock(old, classOf(oldBytes));
  return bigger;
}
