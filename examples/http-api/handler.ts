// A JSON API in AssemblyScript on the SDK's HTTP level: routes with path parameters,
// answered inside the sandbox. A small in-memory list of notes.
//
//   npx wasm-reactor build handler.ts -o api.wasm
//   npx wasm-reactor serve --module api.wasm --port 8080
//   curl -d 'buy milk' 127.0.0.1:8080/notes        → {"id":1}
//   curl 127.0.0.1:8080/notes/1                    → {"id":1,"text":"buy milk"}
export * from "wasm-reactor/assembly/door";
import { writeNumber, writeText } from "wasm-reactor/assembly/sdk/format";
import { ANSWER_OK, callHost, onAnswer } from "wasm-reactor/assembly/sdk/host";
import { answerLater, del, get, post, Request, respond, respondText, setHeaderBytes } from "wasm-reactor/assembly/sdk/http";

const JSON_TYPE = "application/json";
const MAX_NOTES: u32 = 1000;
const MAX_TEXT: u32 = 200;
// Notes: a fixed table on the module's heap, taken once at start-up ({ length u32,
// text … } each; length 0: free).
const NOTE_BYTES: u32 = 4 + MAX_TEXT;
const NOTES = heap.alloc(MAX_NOTES * NOTE_BYTES);
memory.fill(NOTES, 0, MAX_NOTES * NOTE_BYTES);
// An answer is formatted here, then copied out by respond(); a new note's Location here.
const OUT = heap.alloc(64 + MAX_TEXT * 6);
const LOCATION = heap.alloc(32);

function note(id: u32): usize {
  return NOTES + <usize>(id - 1) * NOTE_BYTES;
}

/** The note id in the path, or 0 when it names none. */
function noteId(req: Request): u32 {
  const id = req.param("id").toNumber();
  return id < 1 || id > <i64>MAX_NOTES || load<u32>(note(<u32>id)) == 0 ? 0 : <u32>id;
}

/** A JSON string of the note's bytes, escaped. */
function putJsonString(at: usize, p: usize, n: u32): usize {
  store<u8>(at++, 0x22);
  for (let i: u32 = 0; i < n; i++) {
    const c = load<u8>(p + i);
    if (c == 0x22 || c == 0x5c) {
      store<u8>(at++, 0x5c);
      store<u8>(at++, c);
    } else if (c < 0x20) {
      at = writeText(at, "\\u00");
      store<u8>(at++, <u8>(0x30 + (c >> 4)));
      store<u8>(at++, <u8>((c & 15) < 10 ? 0x30 + (c & 15) : 0x57 + (c & 15)));
    } else {
      store<u8>(at++, c);
    }
  }
  store<u8>(at++, 0x22);
  return at;
}

function json(conn: u32, status: u32, end: usize): void {
  respond(conn, status, JSON_TYPE, OUT, <u32>(end - OUT));
}

get("/notes/:id", (conn: u32, req: Request): void => {
  const id = noteId(req);
  if (id == 0) return respondText(conn, 404, JSON_TYPE, '{"error":"no such note"}');
  let at = writeText(OUT, '{"id":');
  at = writeNumber(at, id);
  at = writeText(at, ',"text":');
  at = putJsonString(at, note(id) + 4, load<u32>(note(id)));
  json(conn, 200, writeText(at, "}"));
});

post("/notes", (conn: u32, req: Request): void => {
  const length = req.body.length;
  if (length == 0 || length > MAX_TEXT) return respondText(conn, 400, JSON_TYPE, '{"error":"a note is 1 to 200 bytes"}');
  for (let id: u32 = 1; id <= MAX_NOTES; id++) {
    if (load<u32>(note(id)) != 0) continue;
    store<u32>(note(id), length);
    memory.copy(note(id) + 4, req.body.ptr, length);
    setHeaderBytes("Location", LOCATION, <u32>(writeNumber(writeText(LOCATION, "/notes/"), id) - LOCATION));
    json(conn, 201, writeText(writeNumber(writeText(OUT, '{"id":'), id), "}"));
    return;
  }
  respondText(conn, 507, JSON_TYPE, '{"error":"full"}');
});

del("/notes/:id", (conn: u32, req: Request): void => {
  const id = noteId(req);
  if (id == 0) return respondText(conn, 404, JSON_TYPE, '{"error":"no such note"}');
  store<u32>(note(id), 0);
  respondText(conn, 200, JSON_TYPE, '{"deleted":true}');
});

// Users are the application's: a host call asks JavaScript (createServer's calls.user),
// and the answer, a JSON object or nothing, comes back to onAnswer for this connection.
get("/users/:name", (conn: u32, req: Request): void => {
  const name = req.param("name");
  callHost(conn, "user", name.ptr, name.length);
  answerLater();
});

onAnswer((conn: u32, call: u32, status: u32, data: usize, length: u32): void => {
  if (status != ANSWER_OK) return respondText(conn, 502, JSON_TYPE, '{"error":"the user directory did not answer"}');
  if (length == 0) return respondText(conn, 404, JSON_TYPE, '{"error":"no such user"}');
  respond(conn, 200, JSON_TYPE, data, length);
});

get("/health", (conn: u32, req: Request): void => {
  respondText(conn, 200, "text/plain", "ok\n");
});
