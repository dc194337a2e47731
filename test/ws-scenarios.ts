// WebSocket (RFC 6455) conformance scenarios for ws-echo, as data for
// test/conformance.test.ts: the raw bytes a client writes (upgrade, then masked frames)
// and the exact bytes it must get back. They run on the native, net and simulated hosts.
import type { ServerOptions } from "../src/options.js";
import type { HttpScenario } from "./http-scenarios.js";

const b = (s: string | number[]) => (typeof s === "string" ? Buffer.from(s, "latin1") : Buffer.from(s));
// The handshake of RFC 6455 §1.3: this key must be accepted with exactly this value.
const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
export const upgrade = (extra = "") => `GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n`
  + `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
export const SWITCHING = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
  + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

const OP = { cont: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 };
const MASK = [0x37, 0xfa, 0x21, 0x3d];

interface FrameOptions { fin?: boolean; masked?: boolean; rsv?: number; longForm?: boolean }

/** A client frame: masked, with the shortest length form unless asked otherwise. */
export function clientFrame(opcode: number, payload: Buffer | string, o: FrameOptions = {}): Buffer {
  const data = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  const masked = o.masked ?? true;
  const head = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode];
  const m = masked ? 0x80 : 0;
  if (data.length < 126 && !o.longForm) head.push(m | data.length);
  else if (data.length < 65536) head.push(m | 126, data.length >> 8, data.length & 0xff);
  else head.push(m | 127, 0, 0, 0, 0, (data.length >>> 24) & 0xff, (data.length >>> 16) & 0xff, (data.length >>> 8) & 0xff, data.length & 0xff);
  if (!masked) return Buffer.concat([b(head), data]);
  return Buffer.concat([b([...head, ...MASK]), Buffer.from(data.map((x, i) => x ^ MASK[i % 4]))]);
}

/** A server frame: never masked, shortest length form. */
export function serverFrame(opcode: number, payload: Buffer | string): Buffer {
  const data = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  const head = [0x80 | opcode];
  if (data.length < 126) head.push(data.length);
  else if (data.length < 65536) head.push(126, data.length >> 8, data.length & 0xff);
  else head.push(127, 0, 0, 0, 0, (data.length >>> 24) & 0xff, (data.length >>> 16) & 0xff, (data.length >>> 8) & 0xff, data.length & 0xff);
  return Buffer.concat([b(head), data]);
}

const closePayload = (code: number, reason = "") => Buffer.concat([b([code >> 8, code & 0xff]), Buffer.from(reason)]);
const closedWith = (code: number) => serverFrame(OP.close, closePayload(code));
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff));

const scenario = (name: string, frames: Buffer[], reply: Buffer[], closes: boolean, extra: Partial<HttpScenario> = {},
  options: ServerOptions = {}): HttpScenario =>
  ({ name: `ws: ${name}`, options, writes: [b(upgrade()), ...frames], reply: Buffer.concat([b(SWITCHING), ...reply]), closes, ...extra });

const euro = Buffer.from("€", "utf8"); // e2 82 ac: split across fragments below
const bigText = "w".repeat(70_000);

export const WS_SCENARIOS: HttpScenario[] = [
  scenario("the RFC's sample key gets the RFC's accept value, and a text message comes back", [clientFrame(OP.text, "Hello")],
    [serverFrame(OP.text, "Hello")], false),
  scenario("binary messages of every length form come back intact", [clientFrame(OP.binary, bytes(125)),
    clientFrame(OP.binary, bytes(300)), clientFrame(OP.binary, bytes(70_000))],
    [serverFrame(OP.binary, bytes(125)), serverFrame(OP.binary, bytes(300)), serverFrame(OP.binary, bytes(70_000))], false),
  scenario("a needlessly long length form is accepted", [clientFrame(OP.text, "short", { longForm: true })], [serverFrame(OP.text, "short")], false),
  scenario("frames written one byte at a time assemble", [...clientFrame(OP.text, bigText.slice(0, 300))].map((x) => Buffer.from([x])),
    [serverFrame(OP.text, bigText.slice(0, 300))], false),
  scenario("glued frames are answered in order", [Buffer.concat([clientFrame(OP.text, "one"), clientFrame(OP.binary, bytes(3)),
    clientFrame(OP.text, bigText)])], [serverFrame(OP.text, "one"), serverFrame(OP.binary, bytes(3)), serverFrame(OP.text, bigText)], false),
  scenario("a fragmented message with a ping between fragments: pong first, then the whole message", [
    clientFrame(OP.text, "frag", { fin: false }), clientFrame(OP.ping, "are you there"),
    clientFrame(OP.cont, "mented", { fin: false }), clientFrame(OP.cont, "!")],
  [serverFrame(OP.pong, "are you there"), serverFrame(OP.text, "fragmented!")], false),
  scenario("a UTF-8 character split across fragments is valid", [clientFrame(OP.text, euro.subarray(0, 1), { fin: false }),
    clientFrame(OP.cont, euro.subarray(1), { fin: true })], [serverFrame(OP.text, euro)], false),
  scenario("invalid UTF-8 in a text message closes with 1007", [clientFrame(OP.text, b([0x68, 0xc0, 0xaf]))], [closedWith(1007)], true),
  scenario("invalid UTF-8 across fragments closes with 1007", [clientFrame(OP.text, euro.subarray(0, 2), { fin: false }),
    clientFrame(OP.cont, "x")], [closedWith(1007)], true),
  scenario("a truncated UTF-8 character at the end of a message closes with 1007", [clientFrame(OP.text, euro.subarray(0, 2))], [closedWith(1007)], true),
  scenario("an unmasked client frame closes with 1002", [clientFrame(OP.text, "bare", { masked: false })], [closedWith(1002)], true),
  scenario("a reserved bit without an extension closes with 1002", [clientFrame(OP.text, "rsv", { rsv: 4 })], [closedWith(1002)], true),
  scenario("a reserved opcode closes with 1002", [clientFrame(3, "op3")], [closedWith(1002)], true),
  scenario("a control frame over 125 bytes closes with 1002", [clientFrame(OP.ping, bytes(126))], [closedWith(1002)], true),
  scenario("a fragmented control frame closes with 1002", [clientFrame(OP.ping, "p", { fin: false })], [closedWith(1002)], true),
  // Judged byte by byte: the bytes that condemn a frame are enough, nothing more is awaited.
  scenario("an unmasked frame is refused at its second byte", [b([0x81, 0x04])], [closedWith(1002)], true),
  scenario("a reserved bit is refused at the first byte", [b([0xc1])], [closedWith(1002)], true),
  scenario("a reserved opcode is refused at the first byte", [b([0x8b])], [closedWith(1002)], true),
  scenario("a fragmented control frame is refused at the first byte", [b([0x09])], [closedWith(1002)], true),
  scenario("a control frame announcing 126 bytes is refused at its second byte", [b([0x89, 0xfe])], [closedWith(1002)], true),
  scenario("messages whole before a protocol error in the same read are answered before the close",
    [Buffer.concat([clientFrame(OP.text, "one"), clientFrame(OP.binary, "two"), b([0x83])])],
    [serverFrame(OP.text, "one"), serverFrame(OP.binary, "two"), closedWith(1002)], true),
  scenario("a continuation with no message started closes with 1002", [clientFrame(OP.cont, "orphan")], [closedWith(1002)], true),
  scenario("a new message inside a fragmented one closes with 1002", [clientFrame(OP.text, "a", { fin: false }), clientFrame(OP.text, "b")],
    [closedWith(1002)], true),
  scenario("a message over maxPayload closes with 1009", [clientFrame(OP.binary, bytes(101))], [closedWith(1009)], true, {},
    { maxPayload: 100 }),
  scenario("fragments adding up to more than maxPayload close with 1009", [clientFrame(OP.binary, bytes(60), { fin: false }),
    clientFrame(OP.cont, bytes(60))], [closedWith(1009)], true, {}, { maxPayload: 100 }),
  scenario("a close is answered with the same code, then the connection closes", [clientFrame(OP.close, closePayload(4000, "bye"))],
    [closedWith(4000)], true),
  scenario("an empty close is answered 1000", [clientFrame(OP.close, Buffer.alloc(0))], [closedWith(1000)], true),
  scenario("a close with a reserved code closes with 1002", [clientFrame(OP.close, closePayload(1005))], [closedWith(1002)], true),
  scenario("a close with a one-byte payload closes with 1002", [clientFrame(OP.close, b([3]))], [closedWith(1002)], true),
  scenario("a close reason that is not UTF-8 closes with 1007", [clientFrame(OP.close, Buffer.concat([closePayload(1000), b([0xff])]))],
    [closedWith(1007)], true),
  scenario("a pong from the client is ignored", [clientFrame(OP.pong, "unsolicited"), clientFrame(OP.text, "after")],
    [serverFrame(OP.text, "after")], false),
  { name: "ws: the client's first offered subprotocol that the server speaks is chosen", options: { subprotocols: ["chat", "v2"] },
    writes: [b(upgrade("Sec-WebSocket-Protocol: v1, v2, chat\r\n")), clientFrame(OP.text, "sub")],
    reply: Buffer.concat([b(SWITCHING.replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: v2\r\n\r\n")), serverFrame(OP.text, "sub")]), closes: false },
  { name: "ws: no subprotocol in common: the upgrade goes ahead without one", options: { subprotocols: ["chat"] },
    writes: [b(upgrade("Sec-WebSocket-Protocol: v1\r\n"))], reply: b(SWITCHING), closes: false },
  { name: "ws: another version is refused with 426 and the version we speak", options: {},
    writes: [b(upgrade().replace("Version: 13", "Version: 8"))], reply: b(statusWithVersion()), closes: true },
  { name: "ws: a key that is not 16 base64 bytes is 400", options: {},
    writes: [b(upgrade().replace(KEY, "short=="))], reply: b(plainStatus(400, "Bad Request")), closes: true },
  { name: "ws: plain HTTP keeps working on the same port", options: {},
    writes: [b("GET / HTTP/1.1\r\nHost: t\r\n\r\n")], reply: b("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
      + "Content-Length: 24\r\nDate: X\r\n\r\nHello from wasm-reactor\n"), closes: false },
  { name: "ws: with a path, an upgrade elsewhere is plain HTTP (404)", options: { path: "/socket" },
    writes: [b(upgrade())], reply: b(plainStatus(404, "Not Found", "keep")), closes: false },
];

function plainStatus(code: number, reason: string, persist: "close" | "keep" = "close", extra = ""): string {
  return `HTTP/1.1 ${code} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${reason.length + 1}\r\n${extra}`
    + `Date: X\r\n${persist === "close" ? "Connection: close\r\n" : ""}\r\n${reason}\n`;
}

function statusWithVersion(): string {
  return plainStatus(426, "Upgrade Required", "close", "Sec-WebSocket-Version: 13\r\n");
}
