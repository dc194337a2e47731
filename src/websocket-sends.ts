// When a WebSocket's send callbacks may run: once the message's bytes went to the socket,
// as the `ws` package promises, not when JS handed them to the module.
//
// After each completed send the module reports the bytes still unsent on the connection
// and how many payload bytes of JS's messages it has taken so far (assembly/ws/js.ts).
// The unsent bytes are the tail of a FIFO: a message the module has taken has left once
// fewer bytes are unsent than the frames taken after it. Frames the module adds of its
// own (pongs, a close) only make that later, never early.

/** A message handed to the module: where its payload ends in the count of all payload bytes, its frame's size, its callback. */
interface Handed {
  end: number;
  frameBytes: number;
  callback?: (err?: Error) => void;
}

const TWO_32 = 2 ** 32;

/** A server frame's header size for a payload of len bytes (never masked). */
function frameBytes(len: number): number {
  return len + (len < 126 ? 2 : len < 65536 ? 4 : 10);
}

export class SendCallbacks {
  private handedBytes = 0;
  /** Messages not yet known to have left, oldest first; empty while no callback waits. */
  private readonly waiting: Handed[] = [];

  /** A message of `payloadBytes` went to the module (a callback, if any, waits for it to leave). */
  handed(payloadBytes: number, callback?: (err?: Error) => void): void {
    this.handedBytes += payloadBytes;
    // Messages after one with a callback count for when it has left, so they are kept too.
    if (callback || this.waiting.length > 0) this.waiting.push({ end: this.handedBytes, frameBytes: frameBytes(payloadBytes), callback });
  }

  /** The module's report: `unsent` bytes still queued, `taken` payload bytes (mod 2^32) of JS's messages it has seen. */
  report(unsent: number, taken: number): void {
    if (this.waiting.length === 0) return;
    const takenBytes = this.handedBytes - ((this.handedBytes % TWO_32 - taken + TWO_32) % TWO_32);
    let framesTaken = 0;
    for (const m of this.waiting) {
      if (m.end > takenBytes) break;
      framesTaken += m.frameBytes;
    }
    while (this.waiting.length > 0 && this.waiting[0].end <= takenBytes) {
      const after = framesTaken - this.waiting[0].frameBytes;
      if (unsent > after) return;
      framesTaken = after;
      this.waiting.shift()!.callback?.();
    }
  }

  /**
   * The module dropped a message (onBackpressure "drop"): the one whose payload ends at
   * `end` (mod 2^32) among the bytes handed. Its callback gets the error; it no longer
   * counts among the frames after earlier messages.
   */
  dropped(end: number): void {
    const at = this.waiting.findIndex((m) => m.end % TWO_32 === end);
    if (at < 0) return;
    const [m] = this.waiting.splice(at, 1);
    m.callback?.(new Error("wasm-reactor: the message was dropped: the client is not reading (onBackpressure \"drop\")"));
  }

  /** The connection is gone: what had not left never will. */
  fail(err: Error): void {
    for (const m of this.waiting.splice(0)) m.callback?.(err);
  }
}
