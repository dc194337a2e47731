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

/** WebSocket opcodes JS sends with (RFC 6455 §5.2). */
export const WS_OPCODE = { TEXT: 1, BINARY: 2, PING: 9, PONG: 10 } as const;
const PIECE_FIRST = 1;
const PIECE_LAST = 2;

/**
 * The pieces of one WebSocket message (assembly/ws/js.ts, ws/fanout.ts): flags (1 FIRST,
 * 2 LAST), opcode, message length, then a slice of the payload; `firstParts` go before
 * the first slice (a publish's topic and the connection it skips).
 */
export function messagePieces(opcode: number, payload: Buffer, ...firstParts: Buffer[]): Buffer[] {
  return slices(payload).map((part, i, all) => {
    const words = [(i === 0 ? PIECE_FIRST : 0) | (i === all.length - 1 ? PIECE_LAST : 0), opcode, payload.length] as const;
    return i === 0 ? piece(words, ...firstParts, part) : piece(words, part);
  });
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
