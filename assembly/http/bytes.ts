// Byte helpers for the HTTP code: static text as bytes, ASCII case-insensitive
// comparison and decimal formatting. Text constants are AssemblyScript string
// literals (static UTF-16 data, never allocated); bytesOf copies one into the heap as
// Latin-1 once, at init, so that it can be sent.

import { bump } from "../alloc";

export const CR: u8 = 0x0d;
export const LF: u8 = 0x0a;
export const SP: u8 = 0x20;
export const HT: u8 = 0x09;

/** The Latin-1 bytes of a static string, in memory that lives as long as the instance. */
export function bytesOf(text: string): usize {
  const p = bump(<usize>max(text.length, 1));
  for (let i = 0; i < text.length; i++) store<u8>(p + i, <u8>text.charCodeAt(i));
  return p;
}

@inline function lower(c: u32): u32 {
  return c - 0x41 < 26 ? c | 0x20 : c;
}

/** Whether len bytes at p equal `lowercase` (which must be lower case), ignoring ASCII case. */
export function equalsIgnoreCase(p: usize, len: u32, lowercase: string): bool {
  if (len != <u32>lowercase.length) return false;
  for (let i: u32 = 0; i < len; i++) {
    if (lower(load<u8>(p + i)) != <u32>lowercase.charCodeAt(i)) return false;
  }
  return true;
}

/** Writes value in decimal at dst; returns the number of digits. */
export function writeDecimal(dst: usize, value: u64): u32 {
  let digits: u32 = 1;
  for (let v = value / 10; v != 0; v /= 10) digits++;
  let v = value;
  for (let i = digits; i > 0; i--) {
    store<u8>(dst + i - 1, <u8>(0x30 + v % 10));
    v /= 10;
  }
  return digits;
}

/** Copies a static string's Latin-1 bytes to dst; returns how many. */
export function writeText(dst: usize, text: string): u32 {
  for (let i = 0; i < text.length; i++) store<u8>(dst + i, <u8>text.charCodeAt(i));
  return <u32>text.length;
}

/** token characters (RFC 9110 §5.6.2): header names and methods. */
export function isTokenChar(c: u32): bool {
  if (c - 0x30 < 10 || (c | 0x20) - 0x61 < 26) return true;
  // ! # $ % & ' * + - . ^ _ ` | ~
  return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d || c == 0x2e
    || c == 0x5e || c == 0x5f || c == 0x60 || c == 0x7c || c == 0x7e;
}

/** field-value characters: visible ASCII, obs-text, space and tab; never CR, LF or NUL. */
export function isFieldChar(c: u32): bool {
  return c >= 0x20 ? c != 0x7f : c == HT;
}

/** The query-less part of a request target: its length up to the first "?". */
export function pathLength(target: usize, len: u32): u32 {
  let n: u32 = 0;
  while (n < len && load<u8>(target + n) != 0x3f) n++;
  return n;
}

// The bounds of the element nextListElement found last.
const ELEMENT = memory.data(8);
@inline export function elementStart(): u32 { return load<u32>(ELEMENT); }
@inline export function elementEnd(): u32 { return load<u32>(ELEMENT, 4); }

/**
 * The next non-empty element of a comma-separated list (RFC 9110 §5.6.1) at or after
 * `from`, without the spaces and tabs around it; returns where to look for the one
 * after it, or -1 when none is left. Its bounds: elementStart(), elementEnd().
 */
export function nextListElement(p: usize, len: u32, from: u32): i32 {
  let i = from;
  while (i < len) {
    while (i < len && (load<u8>(p + i) == SP || load<u8>(p + i) == HT || load<u8>(p + i) == 0x2c)) i++;
    const start = i;
    while (i < len && load<u8>(p + i) != 0x2c) i++;
    let end = i;
    while (end > start && (load<u8>(p + end - 1) == SP || load<u8>(p + end - 1) == HT)) end--;
    if (end > start) {
      store<u32>(ELEMENT, start);
      store<u32>(ELEMENT, end, 4);
      return <i32>i;
    }
  }
  return -1;
}
