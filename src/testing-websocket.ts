// WebSocket bytes for virtual clients of the test kit (wasm-reactor/testing): the
// upgrade request, masked client frames, and the server's frames read back as messages,
// so a test of a WebSocket handler on the simulator needs no client library.

/** A message (or control frame) the server sent. */
export interface WebSocketMessage {
  /** 1 text, 2 binary, 8 close, 9 ping, 10 pong. */
  opcode: number;
  /** The payload, unmasked. */
  data: Buffer;
  /** The payload as UTF-8. */
  text: string;
}

const OPCODE_TEXT = 1;
const OPCODE_BINARY = 2;
const OPCODE_CLOSE = 8;
// A fixed mask: the simulator's runs repeat exactly, so the masking key does not vary either.
const MASK_KEY = Buffer.from([0x1f, 0x8b, 0x53, 0xc4]);

/** The upgrade request a client sends first (RFC 6455 §4.1); `protocols` offers subprotocols. */
export function webSocketUpgrade(path = "/", protocols: string[] = []): string {
  const offer = protocols.length > 0 ? `Sec-WebSocket-Protocol: ${protocols.join(", ")}\r\n` : "";
  return `GET ${path} HTTP/1.1\r\nHost: simulated\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
    + `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${offer}\r\n`;
}

/**
 * One masked client frame: a text message for a string, binary for bytes, or a close
 * frame with `{ close: code }` (then `data` is the reason).
 */
export function webSocketFrame(data: string | Uint8Array, options: { close?: number } = {}): Buffer {
  let payload = Buffer.from(typeof data === "string" ? Buffer.from(data, "utf8") : data);
  let opcode = typeof data === "string" ? OPCODE_TEXT : OPCODE_BINARY;
  if (options.close !== undefined) {
    const code = Buffer.alloc(2);
    code.writeUInt16BE(options.close);
    payload = Buffer.concat([code, payload]);
    opcode = OPCODE_CLOSE;
  }
  const length = payload.length;
  const extended = length < 126 ? Buffer.alloc(0) : Buffer.alloc(length < 65536 ? 2 : 8);
  if (length >= 65536) extended.writeBigUInt64BE(BigInt(length));
  else if (length >= 126) extended.writeUInt16BE(length);
  const first = Buffer.from([0x80 | opcode, 0x80 | (length < 126 ? length : length < 65536 ? 126 : 127)]);
  const masked = payload.map((byte, i) => byte ^ MASK_KEY[i % 4]);
  return Buffer.concat([first, extended, MASK_KEY, masked]);
}

/**
 * The frames a server sent after its 101 response, in order (a frame cut short at the
 * end is left out). Throws if `received` does not start with a 101 response.
 */
export function webSocketMessages(received: Buffer): WebSocketMessage[] {
  const headEnd = received.indexOf("\r\n\r\n");
  if (!received.subarray(0, 12).toString("latin1").startsWith("HTTP/1.1 101") || headEnd < 0) {
    throw new Error(`not a WebSocket upgrade response: ${JSON.stringify(received.subarray(0, 80).toString("latin1"))}`);
  }
  const messages: WebSocketMessage[] = [];
  let at = headEnd + 4;
  while (at + 2 <= received.length) {
    const opcode = received[at] & 0x0f;
    let length = received[at + 1] & 0x7f;
    let start = at + 2;
    if (length === 126) {
      if (start + 2 > received.length) break;
      length = received.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      if (start + 8 > received.length) break;
      length = Number(received.readBigUInt64BE(start));
      start += 8;
    }
    if (start + length > received.length) break;
    const data = Buffer.from(received.subarray(start, start + length));
    messages.push({ opcode, data, text: data.toString("utf8") });
    at = start + length;
  }
  return messages;
}
