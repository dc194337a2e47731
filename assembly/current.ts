// What the dispatch is handling, published in the header as it goes, so that after a
// trap the host knows whose input it was (rollback isolation, host/rollback.ts):
// CURRENT is the index of the event record being handled (NOT_A_RECORD after them), and
// CURRENT_CONN the connection whose hook runs outside any record (a timer, a host call's
// timeout), or 0.

import { H_CURRENT, H_CURRENT_CONN } from "./abi";

const HEADER = memory.data(4); // the header's address

export function currentInit(header: usize): void {
  store<u32>(HEADER, <u32>header);
}

/** The record at `index` of the batch is being handled (NOT_A_RECORD: none). */
@inline export function currentRecord(index: u32): void {
  store<u32>(load<u32>(HEADER), index, H_CURRENT);
}

/** A hook of connection `id` runs outside any record (0: none does). */
@inline export function currentConnection(id: u32): void {
  store<u32>(load<u32>(HEADER), id, H_CURRENT_CONN);
}

