// Pub/sub topics on the JS side. Subscriptions live in the module (assembly/ws/topics.ts),
// which frames a publish once and sends it to every subscriber; JS keeps a mirror of the
// subscriptions made through it (ws.isSubscribed, server.subscriberCount without asking
// the module), and builds the pieces that carry subscriptions and publishes to the module.
import { EV } from "../host/door.js";
import { localConn } from "../host/threads.js";
import { messagePieces, WS_OPCODE } from "./pieces.js";

const EV_WS_PUBLISH = EV.WS_PUBLISH;

/** Topic names stay small next to the arena a batch reads pieces into. */
export const MAX_TOPIC_BYTES = 16 * 1024;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A topic's name as the module keys it: its UTF-8 bytes, checked. */
export function topicBytes(topic: string): Buffer {
  if (typeof topic !== "string") throw new TypeError(`wasm-reactor: a topic is a string, got ${typeof topic}`);
  // Lone surrogates would all encode to U+FFFD: two names for one topic in the module.
  if (LONE_SURROGATE.test(topic)) throw new TypeError("wasm-reactor: a topic must be well-formed Unicode (no lone surrogates)");
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
 * first also topic length u32 · the conn id to skip (0: none) · its thread · the topic;
 * then a slice of the payload. `skip` is JS's (global) id of the connection.
 */
export function publishPieces(topic: Buffer, skip: number, opcode: number, payload: Buffer): Buffer[] {
  const [thread, conn] = localConn(skip);
  const prefix = Buffer.allocUnsafe(12);
  prefix.writeUInt32LE(topic.length, 0);
  prefix.writeUInt32LE(conn, 4);
  prefix.writeUInt32LE(thread, 8);
  return messagePieces(opcode, payload, prefix, topic);
}

type Inject = (op: number, conn: number, bytes: Uint8Array) => void;

/** Where publishes also go beyond this server (src/pubsub-redis.ts), and which topics it must hear from there. */
export interface TopicRelay {
  publish(topic: string, payload: Buffer, binary: boolean): void;
  topicAdded(topic: string): void;
  topicRemoved(topic: string): void;
}

/**
 * A server's topics on the JS side: how many WebSockets subscribe to each through JS,
 * publishes to the module (and to the relay, if there is one), and the relay's
 * publishes from other servers to this server's subscribers.
 */
export class Topics {
  private readonly counts = new Map<string, number>();
  /** Set once a relay (Redis) is connected. */
  relay: TopicRelay | undefined;

  constructor(private readonly inject: Inject) {}

  /** One more subscriber. */
  add(topic: string): void {
    const n = (this.counts.get(topic) ?? 0) + 1;
    this.counts.set(topic, n);
    if (n === 1) this.relay?.topicAdded(topic);
  }

  /** One subscriber fewer. */
  remove(topic: string): void {
    const n = (this.counts.get(topic) ?? 0) - 1;
    if (n > 0) return void this.counts.set(topic, n);
    this.counts.delete(topic);
    this.relay?.topicRemoved(topic);
  }

  count(topic: string): number {
    return this.counts.get(topic) ?? 0;
  }

  /** The topics with at least one subscriber here. */
  topics(): IterableIterator<string> {
    return this.counts.keys();
  }

  /** To the topic's subscribers here but `skip` (a conn id, 0: none), and through the relay to other servers'. */
  publish(topic: string, payload: Buffer, binary: boolean, skip = 0): void {
    this.deliver(topic, payload, binary, skip);
    this.relay?.publish(topic, payload, binary);
  }

  /** A publish from another server (the relay): to the subscribers here only. */
  deliver(topic: string, payload: Buffer, binary: boolean, skip = 0): void {
    for (const p of publishPieces(topicBytes(topic), skip, binary ? WS_OPCODE.BINARY : WS_OPCODE.TEXT, payload)) this.inject(EV_WS_PUBLISH, 0, p);
  }
}
