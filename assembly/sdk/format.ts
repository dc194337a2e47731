// Formatting into memory without allocating (the runtime has no collector): text and
// numbers written at a pointer, which returns where the next byte goes.
//
//   let at = writeText(OUT, '{"id":');
//   at = writeNumber(at, id);
//   respond(conn, 200, "application/json", OUT, <u32>(writeText(at, "}") - OUT));

// Calls into the standard library pass every argument: a call that leaves optional ones
// out goes through a varargs stub and a global argument count, state outside linear
// memory that a checkpoint would miss (test/checkpoint.test.ts).

/** The bytes `text` takes in UTF-8. */
export function utf8Length(text: string): u32 {
  return <u32>String.UTF8.byteLength(text, false);
}

/** Writes `text` in UTF-8 at `at` (utf8Length(text) bytes); returns the end. */
export function writeUtf8(at: usize, text: string): usize {
  return at + String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, at, false, String.UTF8.ErrorMode.WTF8);
}

/** Writes ASCII `text` at `at`; returns the end. */
export function writeText(at: usize, text: string): usize {
  for (let i = 0; i < text.length; i++) store<u8>(at + i, <u8>text.charCodeAt(i));
  return at + text.length;
}

/** Writes `n` in decimal at `at`; returns the end. */
export function writeNumber(at: usize, n: u64): usize {
  const digits = numberLength(n);
  for (let i = digits; i > 0; i--) {
    store<u8>(at + i - 1, <u8>(0x30 + n % 10));
    n /= 10;
  }
  return at + digits;
}

/** How many bytes writeNumber(n) takes. */
export function numberLength(n: u64): u32 {
  let digits: u32 = 1;
  for (let rest = n / 10; rest != 0; rest /= 10) digits++;
  return digits;
}
