// An incremental UTF-8 validator (RFC 3629): a text message may be split across frames
// and reads at any byte, so the state carries over. State: the number of continuation
// bytes still expected (low byte), and the range the next byte must fall in (the second
// and third bytes), which is narrower after E0, ED, F0 and F4 (no overlongs, no
// surrogates, nothing past U+10FFFF).

export const UTF8_ACCEPT: u32 = 0;
export const UTF8_REJECT: u32 = 0xffffffff;

@inline function expect(count: u32, lo: u32, hi: u32): u32 {
  return count | (lo << 8) | (hi << 16);
}

/** Runs len bytes at p through the validator; returns the new state (UTF8_REJECT is final). */
export function utf8Step(state: u32, p: usize, len: u32): u32 {
  let s = state;
  for (let i: u32 = 0; i < len; i++) {
    const c = <u32>load<u8>(p + i);
    if ((s & 0xff) == 0) {
      if (c < 0x80) continue;
      if (c < 0xc2) return UTF8_REJECT; // a stray continuation byte, or an overlong C0/C1 lead
      if (c < 0xe0) s = expect(1, 0x80, 0xbf);
      else if (c == 0xe0) s = expect(2, 0xa0, 0xbf);
      else if (c == 0xed) s = expect(2, 0x80, 0x9f);
      else if (c < 0xf0) s = expect(2, 0x80, 0xbf);
      else if (c == 0xf0) s = expect(3, 0x90, 0xbf);
      else if (c < 0xf4) s = expect(3, 0x80, 0xbf);
      else if (c == 0xf4) s = expect(3, 0x80, 0x8f);
      else return UTF8_REJECT;
    } else {
      if (c < ((s >>> 8) & 0xff) || c > (s >>> 16)) return UTF8_REJECT;
      s = expect((s & 0xff) - 1, 0x80, 0xbf);
      if ((s & 0xff) == 0) s = UTF8_ACCEPT;
    }
  }
  return s;
}
