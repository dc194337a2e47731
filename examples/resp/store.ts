// The key space: a chained hash table in the module's memory. An entry is one block
// holding its key and value; a value that changes size gets a new block.
//
//   entry:  next u32 | hash u32 | key length u32 | value length u32 | expires at u32 | key … | value …
//   buckets: an array of entry pointers, a power of two long, doubled past one entry a bucket

import { now } from "wasm-reactor/assembly/sdk/stream";

export const NO_EXPIRY: u32 = 0;
const E_NEXT: usize = 0;
const E_HASH: usize = 4;
const E_KEY_LEN: usize = 8;
const E_VALUE_LEN: usize = 12;
const E_EXPIRES: usize = 16;
const E_KEY: usize = 20;

// [buckets ptr u32, bucket count u32, entries u32]
const TABLE = memory.data(12);
const INITIAL_BUCKETS: u32 = 1024;

@inline function buckets(): usize {
  let b = <usize>load<u32>(TABLE, 0);
  if (b == 0) b = resize(INITIAL_BUCKETS);
  return b;
}

function resize(count: u32): usize {
  const fresh = heap.alloc(<usize>count * 4);
  memory.fill(fresh, 0, <usize>count * 4);
  const old = <usize>load<u32>(TABLE, 0);
  const oldCount = load<u32>(TABLE, 4);
  for (let i: u32 = 0; i < oldCount; i++) {
    let e = <usize>load<u32>(old + <usize>i * 4);
    while (e != 0) {
      const next = <usize>load<u32>(e, E_NEXT);
      const slot = fresh + <usize>(load<u32>(e, E_HASH) & (count - 1)) * 4;
      store<u32>(e, load<u32>(slot), E_NEXT);
      store<u32>(slot, <u32>e);
      e = next;
    }
  }
  if (old != 0) heap.free(old);
  store<u32>(TABLE, <u32>fresh, 0);
  store<u32>(TABLE, count, 4);
  return fresh;
}

/** FNV-1a: the module has no randomness (it would break replay), so no seeded hash. */
function hash(p: usize, n: u32): u32 {
  let h: u32 = 2166136261;
  for (let i: u32 = 0; i < n; i++) h = (h ^ load<u8>(p + i)) * 16777619;
  return h;
}

@inline function bucketOf(h: u32): usize {
  const b = buckets();
  return b + <usize>(h & (load<u32>(TABLE, 4) - 1)) * 4;
}

function sameKey(e: usize, h: u32, p: usize, n: u32): bool {
  return load<u32>(e, E_HASH) == h && load<u32>(e, E_KEY_LEN) == n && memory.compare(e + E_KEY, p, n) == 0;
}

@inline function expired(e: usize): bool {
  const at = load<u32>(e, E_EXPIRES);
  return at != NO_EXPIRY && <i32>(now() - at) >= 0;
}

/** The live entry for the key, or 0 (an expired one is removed on the way). */
export function getEntry(p: usize, n: u32): usize {
  const h = hash(p, n);
  let link = bucketOf(h);
  for (let e = <usize>load<u32>(link); e != 0; e = <usize>load<u32>(link)) {
    if (sameKey(e, h, p, n)) {
      if (!expired(e)) return e;
      unlink(link, e);
      return 0;
    }
    link = e + E_NEXT;
  }
  return 0;
}

export function get(p: usize, n: u32): usize {
  return getEntry(p, n);
}

function unlink(link: usize, e: usize): void {
  store<u32>(link, load<u32>(e, E_NEXT));
  heap.free(e);
  store<u32>(TABLE, load<u32>(TABLE, 8) - 1, 8);
}

export function remove(p: usize, n: u32): bool {
  const h = hash(p, n);
  let link = bucketOf(h);
  for (let e = <usize>load<u32>(link); e != 0; e = <usize>load<u32>(link)) {
    if (sameKey(e, h, p, n)) {
      const live = !expired(e);
      unlink(link, e);
      return live;
    }
    link = e + E_NEXT;
  }
  return false;
}

/** Sets key to value (copied), with an expiry deadline on the module clock or NO_EXPIRY. */
export function set(kp: usize, kn: u32, vp: usize, vn: u32, expires: u32): void {
  remove(kp, kn);
  const h = hash(kp, kn);
  const e = heap.alloc(E_KEY + kn + vn);
  store<u32>(e, h, E_HASH);
  store<u32>(e, kn, E_KEY_LEN);
  store<u32>(e, vn, E_VALUE_LEN);
  store<u32>(e, expires == NO_EXPIRY ? NO_EXPIRY : max<u32>(expires, 1), E_EXPIRES);
  memory.copy(e + E_KEY, kp, kn);
  memory.copy(e + E_KEY + kn, vp, vn);
  const slot = bucketOf(h);
  store<u32>(e, load<u32>(slot), E_NEXT);
  store<u32>(slot, <u32>e);
  const entries = load<u32>(TABLE, 8) + 1;
  store<u32>(TABLE, entries, 8);
  if (entries > load<u32>(TABLE, 4)) resize(load<u32>(TABLE, 4) * 2);
}

export function valuePtr(e: usize): usize {
  return e + E_KEY + load<u32>(e, E_KEY_LEN);
}

export function valueLength(e: usize): u32 {
  return load<u32>(e, E_VALUE_LEN);
}

export function expireAt(e: usize, deadline: u32): void {
  store<u32>(e, max<u32>(deadline, 1), E_EXPIRES);
}

/** Milliseconds left: -2 for no such key, -1 for a key without expiry. */
export function ttlOf(p: usize, n: u32): i64 {
  const e = getEntry(p, n);
  if (e == 0) return -2;
  const at = load<u32>(e, E_EXPIRES);
  return at == NO_EXPIRY ? -1 : <i64>max<i32>(<i32>(at - now()), 0);
}

/** Live keys (expired ones are dropped while counting). */
export function count(): i64 {
  const b = buckets();
  const n = load<u32>(TABLE, 4);
  for (let i: u32 = 0; i < n; i++) {
    let link = b + <usize>i * 4;
    for (let e = <usize>load<u32>(link); e != 0; e = <usize>load<u32>(link)) {
      if (expired(e)) unlink(link, e);
      else link = e + E_NEXT;
    }
  }
  return load<u32>(TABLE, 8);
}

export function clear(): void {
  const b = buckets();
  const n = load<u32>(TABLE, 4);
  for (let i: u32 = 0; i < n; i++) {
    let e = <usize>load<u32>(b + <usize>i * 4);
    while (e != 0) {
      const next = <usize>load<u32>(e, E_NEXT);
      heap.free(e);
      e = next;
    }
  }
  memory.fill(b, 0, <usize>n * 4);
  store<u32>(TABLE, 0, 8);
}
