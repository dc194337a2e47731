// Base64 (RFC 4648 §4) for the handshake: encoding the accept digest, and checking
// that a client's key decodes to 16 bytes.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Encodes len bytes at src into dst; returns the encoded length. */
export function base64Encode(dst: usize, src: usize, len: u32): u32 {
  let o: u32 = 0;
  let i: u32 = 0;
  for (; i + 3 <= len; i += 3) {
    const v = (<u32>load<u8>(src + i) << 16) | (<u32>load<u8>(src + i + 1) << 8) | load<u8>(src + i + 2);
    for (let s: i32 = 18; s >= 0; s -= 6) store<u8>(dst + o++, <u8>ALPHABET.charCodeAt((v >>> s) & 63));
  }
  const rest = len - i;
  if (rest != 0) {
    const v = (<u32>load<u8>(src + i) << 16) | (rest == 2 ? <u32>load<u8>(src + i + 1) << 8 : 0);
    store<u8>(dst + o++, <u8>ALPHABET.charCodeAt(v >>> 18));
    store<u8>(dst + o++, <u8>ALPHABET.charCodeAt((v >>> 12) & 63));
    store<u8>(dst + o++, rest == 2 ? <u8>ALPHABET.charCodeAt((v >>> 6) & 63) : 0x3d);
    store<u8>(dst + o++, 0x3d);
  }
  return o;
}

@inline function isBase64Char(c: u32): bool {
  return c - 0x41 < 26 || c - 0x61 < 26 || c - 0x30 < 10 || c == 0x2b || c == 0x2f;
}

/** Whether len bytes at p are the base64 of exactly 16 bytes (22 characters and "=="). */
export function isKeyOf16Bytes(p: usize, len: u32): bool {
  if (len != 24 || load<u8>(p + 22) != 0x3d || load<u8>(p + 23) != 0x3d) return false;
  for (let i: u32 = 0; i < 22; i++) if (!isBase64Char(load<u8>(p + i))) return false;
  return true;
}
