// SHA-1 (FIPS 180-4), only for the WebSocket handshake (RFC 6455 §4.2.2), where it
// is required by the protocol, not relied on for security. Inputs are short (a key
// and the GUID), so it hashes one buffer in one call into a static 20-byte digest.

const W = memory.data(320); // the 80-word message schedule
const BLOCK = memory.data(64);
const DIGEST = memory.data(20);

@inline function rotl(x: u32, n: u32): u32 {
  return (x << n) | (x >>> (32 - n));
}

@inline function loadBE(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

function compress(h: usize, block: usize): void {
  for (let t: u32 = 0; t < 16; t++) store<u32>(W + t * 4, loadBE(block + t * 4));
  for (let t: u32 = 16; t < 80; t++) {
    store<u32>(W + t * 4, rotl(load<u32>(W + (t - 3) * 4) ^ load<u32>(W + (t - 8) * 4)
      ^ load<u32>(W + (t - 14) * 4) ^ load<u32>(W + (t - 16) * 4), 1));
  }
  let a = load<u32>(h), b = load<u32>(h, 4), c = load<u32>(h, 8), d = load<u32>(h, 12), e = load<u32>(h, 16);
  for (let t: u32 = 0; t < 80; t++) {
    let f: u32, k: u32;
    if (t < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
    else if (t < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
    else if (t < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
    else { f = b ^ c ^ d; k = 0xca62c1d6; }
    const temp = rotl(a, 5) + f + e + k + load<u32>(W + t * 4);
    e = d;
    d = c;
    c = rotl(b, 30);
    b = a;
    a = temp;
  }
  store<u32>(h, load<u32>(h) + a);
  store<u32>(h, load<u32>(h, 4) + b, 4);
  store<u32>(h, load<u32>(h, 8) + c, 8);
  store<u32>(h, load<u32>(h, 12) + d, 12);
  store<u32>(h, load<u32>(h, 16) + e, 16);
}

/** The SHA-1 of len bytes at p, as 20 bytes at a fixed address (valid until the next call). */
export function sha1(p: usize, len: u32): usize {
  const h = DIGEST;
  store<u32>(h, 0x67452301);
  store<u32>(h, 0xefcdab89, 4);
  store<u32>(h, 0x98badcfe, 8);
  store<u32>(h, 0x10325476, 12);
  store<u32>(h, 0xc3d2e1f0, 16);
  let i: u32 = 0;
  for (; i + 64 <= len; i += 64) compress(h, p + i);
  // The last block(s): the rest, a 1 bit, zeros, and the length in bits.
  const rest = len - i;
  memory.fill(BLOCK, 0, 64);
  memory.copy(BLOCK, p + i, rest);
  store<u8>(BLOCK + rest, 0x80);
  if (rest >= 56) {
    compress(h, BLOCK);
    memory.fill(BLOCK, 0, 64);
  }
  store<u64>(BLOCK + 56, bswap<u64>(<u64>len * 8));
  compress(h, BLOCK);
  for (let j: u32 = 0; j < 5; j++) store<u32>(h + j * 4, bswap<u32>(load<u32>(h + j * 4)));
  return h;
}
