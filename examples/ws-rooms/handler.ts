// Chat rooms in AssemblyScript on the SDK's WebSocket level. A client sends text
// commands: "join <room>", "say <text>" (to everyone in its room, itself included),
// "leave". Rooms and their members live in the module's memory: each room keeps a
// doubly linked list of its members, so a "say" visits only that room.
//
//   npx wasm-reactor build handler.ts -o rooms.wasm
//   npx wasm-reactor serve --module rooms.wasm --port 9001
export * from "wasm-reactor/assembly/door";
import { writeNumber, writeText } from "wasm-reactor/assembly/sdk/format";
import { onClose, onMessage, sendText, send } from "wasm-reactor/assembly/sdk/websocket";

const MAX_ROOMS: u32 = 256;
const MAX_NAME: u32 = 64;
// Rooms: { name length u32, first member u32 (slot + 1, 0: none), name … } each.
const ROOM_BYTES: u32 = 8 + MAX_NAME;
const ROOMS = heap.alloc(MAX_ROOMS * ROOM_BYTES);
memory.fill(ROOMS, 0, MAX_ROOMS * ROOM_BYTES);
// Members, by connection slot: { room + 1 u32 (0: none), next slot + 1 u32, previous slot + 1 u32 }.
const MEMBER_BYTES: u32 = 12;
// [members array ptr u32, its capacity in slots u32]
const MEMBERS = memory.data(8);
// A message to a room is formatted here: "[room] #slot: text".
const LINE = heap.alloc(MAX_NAME + 32 + (64 << 10));

function member(slot: u32): usize {
  let cap = load<u32>(MEMBERS, 4);
  if (slot >= cap) {
    const bigger = max<u32>(max<u32>(slot + 1, cap * 2), 1024);
    const array = heap.alloc(<usize>bigger * MEMBER_BYTES);
    memory.fill(array, 0, <usize>bigger * MEMBER_BYTES);
    const old = <usize>load<u32>(MEMBERS);
    if (old != 0) {
      memory.copy(array, old, <usize>cap * MEMBER_BYTES);
      heap.free(old);
    }
    store<u32>(MEMBERS, <u32>array);
    store<u32>(MEMBERS, bigger, 4);
  }
  return <usize>load<u32>(MEMBERS) + <usize>slot * MEMBER_BYTES;
}

@inline function room(id: u32): usize {
  return ROOMS + <usize>id * ROOM_BYTES;
}

/** The room named by [p, p + n), made if new; -1 when there is no room for another. */
function findRoom(p: usize, n: u32): i32 {
  let free: i32 = -1;
  for (let id: u32 = 0; id < MAX_ROOMS; id++) {
    const r = room(id);
    const length = load<u32>(r);
    if (length == n && memory.compare(r + 8, p, n) == 0) return <i32>id;
    if (length == 0 && free < 0) free = <i32>id;
  }
  if (free >= 0) {
    store<u32>(room(free), n);
    memory.copy(room(free) + 8, p, n);
  }
  return free;
}

function leave(slot: u32): void {
  const m = member(slot);
  const id = load<u32>(m);
  if (id == 0) return;
  const next = load<u32>(m, 4);
  const prev = load<u32>(m, 8);
  if (prev != 0) store<u32>(member(prev - 1), next, 4);
  else store<u32>(room(id - 1), next, 4);
  if (next != 0) store<u32>(member(next - 1), prev, 8);
  if (load<u32>(room(id - 1), 4) == 0) store<u32>(room(id - 1), 0); // empty: the room goes
  store<u32>(m, 0);
  store<u32>(m, 0, 4);
  store<u32>(m, 0, 8);
}

function join(slot: u32, id: u32): void {
  leave(slot);
  const m = member(slot);
  const first = load<u32>(room(id), 4);
  store<u32>(m, id + 1);
  store<u32>(m, first, 4);
  store<u32>(m, 0, 8);
  if (first != 0) store<u32>(member(first - 1), slot + 1, 8);
  store<u32>(room(id), slot + 1, 4);
}

function startsWith(p: usize, n: u32, word: string): bool {
  if (n < <u32>word.length) return false;
  for (let i = 0; i < word.length; i++) if (<i32>load<u8>(p + i) != word.charCodeAt(i)) return false;
  return true;
}



function say(slot: u32, text: usize, n: u32): void {
  const id = load<u32>(member(slot));
  if (id == 0) return sendText(slot, "join a room first");
  const r = room(id - 1);
  let at = writeText(LINE, "[");
  memory.copy(at, r + 8, load<u32>(r));
  at = writeNumber(writeText(at + load<u32>(r), "] #"), slot);
  at = writeText(at, ": ");
  memory.copy(at, text, n);
  const length = <u32>(at + n - LINE);
  for (let next = load<u32>(r, 4); next != 0; next = load<u32>(member(next - 1), 4)) send(next - 1, LINE, length, false);
}

onMessage((conn: u32, data: usize, length: u32, binary: bool): void => {
  if (binary) return sendText(conn, "text commands only: join <room>, say <text>, leave");
  if (startsWith(data, length, "join ")) {
    const n = length - 5;
    if (n == 0 || n > MAX_NAME) return sendText(conn, "a room name is 1 to 64 bytes");
    const id = findRoom(data + 5, n);
    if (id < 0) return sendText(conn, "no room for another room");
    join(conn, <u32>id);
    let at = writeText(LINE, "joined ");
    memory.copy(at, data + 5, n);
    send(conn, LINE, <u32>(at + n - LINE), false);
  } else if (startsWith(data, length, "say ") && length - 4 <= (64 << 10)) {
    say(conn, data + 4, length - 4);
  } else if (length == 5 && startsWith(data, length, "leave")) {
    leave(conn);
    sendText(conn, "left");
  } else {
    sendText(conn, "commands: join <room>, say <text>, leave");
  }
});

onClose((conn: u32, code: u32): void => {
  leave(conn);
});
