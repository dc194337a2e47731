// Pieces: how JS hands bytes to the module (EV_RESPONSE, EV_WS_SEND, EV_WS_BROADCAST):
// three u32 words whose meaning the receiving handler defines, then bytes. Bodies are
// cut into slices so that a piece stays small next to the arena half a batch reads into.

/** Body bytes per piece. */
export const PIECE_BYTES = 16 * 1024;

/** Three little-endian u32 words, then the parts' bytes. */
export function piece(words: readonly [number, number, number], ...parts: Buffer[]): Buffer {
  const out = Buffer.allocUnsafe(12 + parts.reduce((n, p) => n + p.length, 0));
  words.forEach((w, i) => out.writeUInt32LE(w, i * 4));
  let at = 12;
  for (const p of parts) at += p.copy(out, at);
  return out;
}

/** The body in slices of at most PIECE_BYTES; an empty body is one empty slice. */
export function slices(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  do {
    out.push(body.subarray(offset, offset + PIECE_BYTES));
    offset += PIECE_BYTES;
  } while (offset < body.length);
  return out;
}
