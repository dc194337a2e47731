// Pub/sub topics on the JS side. Subscriptions live in the module (assembly/ws/topics.ts),
// which frames a publish once and sends it to every subscriber; JS keeps a mirror of the
// subscriptions made through it (ws.isSubscribed, server.subscriberCount without asking
// the module), and builds the pieces that carry subscriptions and publishes to the module.
import { piece, slices } from "./pieces.js";

const PIECE_FIRST = 1;
const PIECE_LAST = 2;
/** Topic names stay small next to the arena a batch reads pieces into. */
export const MAX_TOPIC_BYTES = 16 * 1024;

/** A topic's name as the module keys it: its UTF-8 bytes, checked. */
export function topicBytes(topic: string): Buffer {
  if (typeof topic !== "string") throw new TypeError(`wasm-reactor: a topic is a string, got ${typeof topic}`);
  const bytes = Buffer.from(topic, "utf8");
  if (bytes.length > MAX_TOPIC_BYTES) throw new RangeError(`wasm-reactor: a topic is at most ${MAX_TOPIC_BYTES} bytes, got ${bytes.length}`);
  return bytes;
}

/** EV_WS_SUBSCRIBE's payload: 1 subscribe / 0 unsubscribe u32 · the topic. */
export function subscription(subscribe: boolean, topic: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + topic.length);
  out.writeUInt32LE(subscribe ? 1 : 0, 0);
  topic.copy(out, 4);
  return out;
}

/**
 * EV_WS_PUBLISH's pieces (assembly/ws/fanout.ts): flags, opcode, message length; the
 * first also topic length u32 · the conn id to skip (0: none) · the topic; then a slice
 * of the payload.
 */
export function publishPieces(topic: Buffer, skip: number, opcode: number, payload: Buffer): Buffer[] {
  const prefix = Buffer.allocUnsafe(8);
  prefix.writeUInt32LE(topic.length, 0);
  prefix.writeUInt32LE(skip >>> 0, 4);
  return slices(payload).map((part, i, all) => {
    const words = [(i === 0 ? PIECE_FIRST : 0) | (i === all.length - 1 ? PIECE_LAST : 0), opcode, payload.length] as const;
    return i === 0 ? piece(words, prefix, topic, part) : piece(words, part);
  });
}

/** How many WebSockets subscribe to each topic through JS in this server. */
export class TopicCounts {
  private readonly counts = new Map<string, number>();

  /** One more subscriber; true if it is the topic's first. */
  add(topic: string): boolean {
    const n = (this.counts.get(topic) ?? 0) + 1;
    this.counts.set(topic, n);
    return n === 1;
  }

  /** One subscriber fewer; true if it was the topic's last. */
  remove(topic: string): boolean {
    const n = (this.counts.get(topic) ?? 0) - 1;
    if (n > 0) this.counts.set(topic, n);
    else this.counts.delete(topic);
    return n <= 0;
  }

  count(topic: string): number {
    return this.counts.get(topic) ?? 0;
  }

  /** The topics with at least one subscriber. */
  topics(): IterableIterator<string> {
    return this.counts.keys();
  }
}
