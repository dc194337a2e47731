// The module's exports: the whole door between host and module (docs/ABI.md).

import {
  INIT_TRAP_ON_MAGIC, ABI_MAGIC, ABI_VERSION, FLAG_MORE, H_ARENA, H_ARENA_HALF, H_EV_CAP, H_EV_RING, H_FLAGS,
  H_MAGIC, H_MAX_CONNS, H_OPEN_CONNS, H_SUB_CAP, H_SUB_RING, H_VERSION, HEADER_BYTES,
  MAX_SLOTS, RECORD_BYTES,
} from "./abi";
import { reservedBytes } from "./alloc";
import { dispatchBatch, dispatcherInit, isDraining } from "./dispatcher";
import { enableTrapOnMagic } from "./faults";
import { CONN_BYTES, openConnections, tableInit } from "./handles";
import { selectProtocol } from "./handlers";
import { lineInit } from "./line/handler";
import { outputInit } from "./output";

export { ABI_VERSION, CONN_BYTES };

let header: usize = 0;

/**
 * Lays out the rings and the arena and returns the header pointer.
 * evCap: event records per batch; arenaHalf: bytes the host may read per batch;
 * maxLine: the line protocol's limit; flags: INIT_* bits.
 */
export function init(protocol: u32, evCap: u32, arenaHalf: u32, maxLine: u32, flags: u32): usize {
  assert(header == 0, "init called twice");
  assert(evCap <= 1 << 24, "the dirty-list index has 24 bits");
  if ((flags & INIT_TRAP_ON_MAGIC) != 0) enableTrapOnMagic();
  selectProtocol(protocol);
  lineInit(maxLine);
  const subCap = evCap * 2; // a touched connection yields at most a send and an interest change
  header = heap.alloc(HEADER_BYTES);
  const evRing = heap.alloc(<usize>evCap * RECORD_BYTES);
  const subRing = heap.alloc(<usize>subCap * RECORD_BYTES);
  const arena = heap.alloc(<usize>arenaHalf * 2);
  const dirtyList = heap.alloc(<usize>evCap * 12);
  dispatcherInit(evRing);
  outputInit(subRing, subCap, arena, <usize>arenaHalf * 2, dirtyList, evCap);
  tableInit(1024);

  store<u32>(header, ABI_MAGIC, H_MAGIC);
  store<u32>(header, ABI_VERSION, H_VERSION);
  store<u32>(header, <u32>evRing, H_EV_RING);
  store<u32>(header, evCap, H_EV_CAP);
  store<u32>(header, <u32>subRing, H_SUB_RING);
  store<u32>(header, subCap, H_SUB_CAP);
  store<u32>(header, <u32>arena, H_ARENA);
  store<u32>(header, arenaHalf, H_ARENA_HALF);
  store<u32>(header, MAX_SLOTS, H_MAX_CONNS);
  return header;
}

/** Handles n event records; returns the number of submission records written. */
export function dispatch(n: u32): u32 {
  const m = dispatchBatch(n);
  store<u32>(header, isDraining() ? FLAG_MORE : 0, H_FLAGS);
  store<u32>(header, openConnections(), H_OPEN_CONNS);
  return m;
}

/** Bytes of linear memory the connection buffers and handle table have claimed. */
export function connectionBytes(): usize {
  return reservedBytes();
}
