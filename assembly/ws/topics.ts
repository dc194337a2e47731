// Pub/sub topics: which WebSockets subscribe to what, kept in the module, so a publish is
// framed once and sent to every subscriber with no JavaScript per subscriber (fanout.ts).
//
//   topic = hash u32 · name (a buffer) · subscribers (a buffer of entries: conn id u32 · index in that connection's list u32)
//   a WebSocket's list (its ws block, W_TOPICS) = entries: topic id u32 · index in the topic's subscribers u32
//
// Each side records where the other keeps its entry, so subscribing, unsubscribing and a
// close cost O(1) per topic however many subscribe (swap-removal, then the moved entry's
// back index is fixed). Topic ids index a table; names find ids through an open-addressed
// hash (linear probing, backward-shift deletion). A topic nobody subscribes to is forgotten.

import { allocBlock, classOf, freeBlock } from "../alloc";
import { bufAppend, bufData, bufDropLast, bufFree, bufLength } from "../buffer";
import { connId, inBuf } from "../handles";
import { request } from "../http/conn";
import { SLOT_MASK } from "../abi";
import { W_TOPICS } from "./state";

const T_HASH: usize = 0;
const T_NAME: usize = 4;
const T_SUBSCRIBERS: usize = 8;
const TOPIC_BYTES: u32 = 12;
const ENTRY: u32 = 8; // both kinds of entry: a word, then the other side's index
const FIRST_HASH_SLOTS: u32 = 64;

// The topics by id (a buffer of record pointers, id − 1 → record, 0 if free), the free ids
// (a buffer of u32), the hash (a buffer of u32 ids, a power of two of them) and the count.
const STATE = memory.data(16);
const PAIR = memory.data(8);

@inline function records(): usize { return <usize>load<u32>(STATE); }
@inline function freeIds(): usize { return <usize>load<u32>(STATE, 4); }
@inline function hashTable(): usize { return <usize>load<u32>(STATE, 8); }
@inline function topicCount(): u32 { return load<u32>(STATE, 12); }
@inline function record(id: u32): usize { return <usize>load<u32>(bufData(records()) + <usize>(id - 1) * 4); }
@inline function subscribersOf(id: u32): usize { return <usize>load<u32>(record(id), T_SUBSCRIBERS); }
@inline function hashSlots(): u32 { return bufLength(hashTable()) >> 2; }

/** FNV-1a: topic names are short and chosen by the application. */
function hashOf(p: usize, len: u32): u32 {
  let h: u32 = 2166136261;
  for (let i: u32 = 0; i < len; i++) h = (h ^ load<u8>(p + i)) * 16777619;
  return h;
}

function named(id: u32, h: u32, p: usize, len: u32): bool {
  const r = record(id);
  const name = <usize>load<u32>(r, T_NAME);
  return load<u32>(r, T_HASH) == h && bufLength(name) == len && memory.compare(bufData(name), p, len) == 0;
}

/** The id of the topic with this name, or 0. */
export function findTopic(p: usize, len: u32): u32 {
  if (topicCount() == 0) return 0;
  const h = hashOf(p, len);
  const mask = hashSlots() - 1;
  const slots = bufData(hashTable());
  let i = h & mask;
  for (let id = load<u32>(slots + <usize>i * 4); id != 0; id = load<u32>(slots + <usize>i * 4)) {
    if (named(id, h, p, len)) return id;
    i = (i + 1) & mask;
  }
  return 0;
}

function placeInHash(id: u32): void {
  const mask = hashSlots() - 1;
  const slots = bufData(hashTable());
  let i = load<u32>(record(id), T_HASH) & mask;
  while (load<u32>(slots + <usize>i * 4) != 0) i = (i + 1) & mask;
  store<u32>(slots + <usize>i * 4, id);
}

/** Keeps the hash at most half full: a new table twice the size, every id placed again. */
function growHash(): void {
  const old = hashTable();
  const slots = max<u32>(FIRST_HASH_SLOTS, hashSlots() << 1);
  let table: usize = 0;
  store<u32>(PAIR, 0);
  for (let i: u32 = 0; i < slots; i++) table = bufAppend(table, PAIR, 4);
  store<u32>(STATE, <u32>table, 8);
  for (let i: u32 = 0; old != 0 && i < (bufLength(old) >> 2); i++) {
    const id = load<u32>(bufData(old) + <usize>i * 4);
    if (id != 0) placeInHash(id);
  }
  bufFree(old);
}

function createTopic(p: usize, len: u32): u32 {
  if ((topicCount() + 1) * 2 > hashSlots()) growHash();
  const r = allocBlock(TOPIC_BYTES);
  store<u32>(r, hashOf(p, len), T_HASH);
  store<u32>(r, <u32>bufAppend(0, p, len), T_NAME);
  store<u32>(r, 0, T_SUBSCRIBERS);
  let id: u32;
  const free = freeIds();
  if (bufLength(free) != 0) {
    id = load<u32>(bufData(free) + bufLength(free) - 4);
    bufDropLast(free, 4);
  } else {
    store<u32>(PAIR, 0);
    store<u32>(STATE, <u32>bufAppend(records(), PAIR, 4));
    id = bufLength(records()) >> 2;
  }
  store<u32>(bufData(records()) + <usize>(id - 1) * 4, <u32>r);
  store<u32>(STATE, topicCount() + 1, 12);
  placeInHash(id);
  return id;
}

/** The last subscriber left: the name, the record and the id go; the hash closes the gap behind it. */
function deleteTopic(id: u32): void {
  const mask = hashSlots() - 1;
  const slots = bufData(hashTable());
  let i = load<u32>(record(id), T_HASH) & mask;
  while (load<u32>(slots + <usize>i * 4) != id) i = (i + 1) & mask;
  for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
    const other = load<u32>(slots + <usize>j * 4);
    if (other == 0) break;
    const home = load<u32>(record(other), T_HASH) & mask;
    // `other` may fill the gap at i unless its home lies cyclically in (i, j].
    if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
      store<u32>(slots + <usize>i * 4, other);
      i = j;
    }
  }
  store<u32>(slots + <usize>i * 4, 0);
  const r = record(id);
  bufFree(load<u32>(r, T_NAME));
  bufFree(load<u32>(r, T_SUBSCRIBERS));
  freeBlock(r, classOf(TOPIC_BYTES));
  store<u32>(bufData(records()) + <usize>(id - 1) * 4, 0);
  store<u32>(PAIR, id);
  store<u32>(STATE, <u32>bufAppend(freeIds(), PAIR, 4), 4);
  store<u32>(STATE, topicCount() - 1, 12);
}

/** The ws block of an open WebSocket, by its connection id (entries leave a topic when their connection closes). */
@inline function blockOf(conn: u32): usize {
  return request(inBuf(conn & SLOT_MASK));
}

/** Swap-removes entry `at` of the topic's subscribers; forgets the topic if it was the last. */
function leaveTopic(id: u32, at: u32): void {
  const subs = subscribersOf(id);
  const last = bufLength(subs) / ENTRY - 1;
  if (at != last) {
    const from = bufData(subs) + <usize>last * ENTRY;
    const to = bufData(subs) + <usize>at * ENTRY;
    memory.copy(to, from, ENTRY);
    // The moved subscriber's list must point at its entry's new place.
    const list = <usize>load<u32>(blockOf(load<u32>(to)), W_TOPICS);
    store<u32>(bufData(list) + <usize>load<u32>(to, 4) * ENTRY, at, 4);
  }
  bufDropLast(subs, ENTRY);
  if (last == 0) deleteTopic(id);
}

/** Swap-removes entry `at` of a WebSocket's list. */
function dropFromList(w: usize, at: u32): void {
  const list = <usize>load<u32>(w, W_TOPICS);
  const last = bufLength(list) / ENTRY - 1;
  if (at != last) {
    const to = bufData(list) + <usize>at * ENTRY;
    memory.copy(to, bufData(list) + <usize>last * ENTRY, ENTRY);
    store<u32>(bufData(subscribersOf(load<u32>(to))) + <usize>load<u32>(to, 4) * ENTRY, at, 4);
  }
  bufDropLast(list, ENTRY);
}

/** Where the topic is in the WebSocket's list, or -1. */
function indexInList(w: usize, id: u32): i32 {
  const list = <usize>load<u32>(w, W_TOPICS);
  const n = bufLength(list) / ENTRY;
  for (let i: u32 = 0; i < n; i++) if (load<u32>(bufData(list) + <usize>i * ENTRY) == id) return <i32>i;
  return -1;
}

/** Subscribes the WebSocket (slot, its ws block w) to the topic named by len bytes at p; false if it already was. */
export function subscribe(slot: u32, w: usize, p: usize, len: u32): bool {
  let id = findTopic(p, len);
  if (id != 0 && indexInList(w, id) >= 0) return false;
  if (id == 0) id = createTopic(p, len);
  const list = <usize>load<u32>(w, W_TOPICS);
  const subs = subscribersOf(id);
  // Each entry's index on the other side, taken before either buffer grows (and may move).
  const inList = bufLength(list) / ENTRY;
  const inTopic = bufLength(subs) / ENTRY;
  store<u32>(PAIR, connId(slot));
  store<u32>(PAIR, inList, 4);
  store<u32>(record(id), <u32>bufAppend(subs, PAIR, ENTRY), T_SUBSCRIBERS);
  store<u32>(PAIR, id);
  store<u32>(PAIR, inTopic, 4);
  store<u32>(w, <u32>bufAppend(list, PAIR, ENTRY), W_TOPICS);
  return true;
}

/** Unsubscribes; false if the WebSocket was not subscribed. */
export function unsubscribe(w: usize, p: usize, len: u32): bool {
  const id = findTopic(p, len);
  const at = id == 0 ? -1 : indexInList(w, id);
  if (at < 0) return false;
  const list = <usize>load<u32>(w, W_TOPICS);
  leaveTopic(id, load<u32>(bufData(list) + <usize>at * ENTRY, 4));
  dropFromList(w, <u32>at);
  return true;
}

export function isSubscribed(w: usize, p: usize, len: u32): bool {
  const id = findTopic(p, len);
  return id != 0 && indexInList(w, id) >= 0;
}

/** The WebSocket is closing: it leaves every topic. */
export function leaveAllTopics(w: usize): void {
  const list = <usize>load<u32>(w, W_TOPICS);
  for (let i = <i32>(bufLength(list) / ENTRY) - 1; i >= 0; i--) {
    const e = bufData(list) + <usize>i * ENTRY;
    leaveTopic(load<u32>(e), load<u32>(e, 4));
  }
  bufFree(list);
  store<u32>(w, 0, W_TOPICS);
}

/** The topic's subscribers (entries of ENTRY bytes: conn id first), or 0 if nobody subscribes. */
export function subscribersNamed(p: usize, len: u32): usize {
  const id = findTopic(p, len);
  return id == 0 ? 0 : subscribersOf(id);
}

export const SUBSCRIBER_ENTRY_BYTES: u32 = ENTRY;
