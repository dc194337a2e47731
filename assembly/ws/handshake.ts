// The opening handshake (RFC 6455 §4.2): a GET with Upgrade: websocket, Connection:
// upgrade, Sec-WebSocket-Version: 13 and a key of 16 base64 bytes is answered 101 with
// Sec-WebSocket-Accept = base64(SHA-1(key + GUID)). Another version gets 426 with the
// version we speak; a missing or malformed key gets 400.

import { bufAppend, bufData, bufFree, bufLength } from "../buffer";
import { send } from "../output";
import { elementEnd, elementStart, nextListElement, writeText } from "../http/bytes";
import { base64Encode, isKeyOf16Bytes } from "./base64";
import { sha1 } from "./sha1";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const SCRATCH = memory.data(256); // key + GUID (60 B) at 0, the 101 response (129 B) at 64

/** Writes Sec-WebSocket-Accept's value for the key at dst (28 bytes). */
export function acceptValue(dst: usize, key: usize, keyLen: u32): u32 {
  memory.copy(SCRATCH, key, keyLen);
  writeText(SCRATCH + keyLen, GUID);
  return base64Encode(dst, sha1(SCRATCH, keyLen + GUID.length), 20);
}

/** 0 if the upgrade may go ahead, else the status to refuse it with. */
export function checkUpgrade(isGet: bool, http10: bool, version: usize, versionLen: u32, key: usize, keyLen: u32): u32 {
  if (!isGet || http10) return 400;
  if (versionLen != 2 || load<u8>(version) != 0x31 || load<u8>(version + 1) != 0x33) return 426;
  return isKeyOf16Bytes(key, keyLen) ? 0 : 400;
}

// The subprotocols the server speaks, comma-separated (set-up: setWebSocketProtocols).
const SERVER_PROTOCOLS = memory.data(8);

export function setServerProtocols(p: usize, len: u32): void {
  store<u32>(SERVER_PROTOCOLS, <u32>p);
  store<u32>(SERVER_PROTOCOLS, len, 4);
}

/** Whether len bytes at p are an element of the comma-separated list at list (exact, case-sensitive). */
function inList(list: usize, listLen: u32, p: usize, len: u32): bool {
  for (let at = nextListElement(list, listLen, 0); at >= 0; at = nextListElement(list, listLen, <u32>at)) {
    if (elementEnd() - elementStart() == len && memory.compare(list + elementStart(), p, len) == 0) return true;
  }
  return false;
}

// The subprotocol selectProtocol chose: pointer and length (0 if none).
const SELECTED = memory.data(8);

/** Chooses the first subprotocol the client offers that the server speaks, into SELECTED. */
function selectProtocol(offer: usize, offerLen: u32): void {
  store<u64>(SELECTED, 0);
  const listLen = load<u32>(SERVER_PROTOCOLS, 4);
  if (listLen == 0) return;
  for (let at = nextListElement(offer, offerLen, 0); at >= 0; at = nextListElement(offer, offerLen, <u32>at)) {
    const p = offer + elementStart();
    const len = elementEnd() - elementStart();
    if (inList(load<u32>(SERVER_PROTOCOLS), listLen, p, len)) {
      store<u32>(SELECTED, <u32>p);
      store<u32>(SELECTED, len, 4);
      return;
    }
  }
}

export function sendSwitchingProtocols(slot: u32, key: usize, keyLen: u32, offer: usize, offerLen: u32): void {
  const b = switchingProtocols(key, keyLen, offer, offerLen);
  send(slot, bufData(b), bufLength(b));
  bufFree(b);
}

/** The 101 response for this key and subprotocol offer, in a new buffer (kept while an upgrade is verified). */
export function switchingProtocols(key: usize, keyLen: u32, offer: usize, offerLen: u32): usize {
  const p = SCRATCH + 64;
  let n = writeText(p, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
  n += acceptValue(p + n, key, keyLen);
  n += writeText(p + n, "\r\n");
  let b = bufAppend(0, p, n);
  selectProtocol(offer, offerLen);
  if (load<u32>(SELECTED, 4) != 0) {
    b = bufAppend(b, p, writeText(p, "Sec-WebSocket-Protocol: "));
    b = bufAppend(b, load<u32>(SELECTED), load<u32>(SELECTED, 4));
    b = bufAppend(b, p, writeText(p, "\r\n"));
  }
  return bufAppend(b, p, writeText(p, "\r\n"));
}
