// Pub/sub past one process and one machine, through Redis pub/sub, as socket.io's Redis
// adapter does: every publish is delivered here by the module and also published to
// Redis, on the channel `prefix + topic`; every server subscribes in Redis to the topics
// it has subscribers for (only those), and delivers what other servers publish. One
// publishing connection per server keeps one publisher's messages in order.
//
//   Redis message = flags u8 (1: binary) · the publishing server's id (16 bytes) · payload
//
// A server skips its own messages when Redis echoes them: its subscribers had them first.
// Redis down: publishes still reach this server's subscribers; the clients reconnect with
// backoff; the server says so once per outage, and again when Redis is back. Publishes made
// while it is down do not reach other servers (nothing queues them: memory stays bounded),
// as Redis pub/sub itself delivers at most once.
//
// The client is the `redis` package (node-redis), loaded only when this option is used.
import { randomBytes } from "node:crypto";
import type { TopicRelay } from "./websocket-topics.js";

export interface RedisPubSubOptions {
  /** The Redis server: "redis://host:6379" (or rediss:// for TLS, with user and password in the URL if needed). */
  redis: string;
  /** Prefix of the Redis channels (default "wasm-reactor:"); servers that should hear each other share it. */
  channelPrefix?: string;
}

/** How the relay tells its server about Redis: an outage (once) and the recovery. */
export interface RelayReports {
  /** A publish from another server, for this server's subscribers. */
  deliver(topic: string, payload: Buffer, binary: boolean): void;
  down(err: Error): void;
  up(): void;
}

const ID_BYTES = 16;
const BINARY = 1;
/** How long listen() waits for Redis before going on without it (it keeps trying). */
const CONNECT_WAIT_MS = 3000;
/** Reconnect backoff: 50 ms, doubling, at most 2 s. */
const backoff = (retries: number) => Math.min(50 * 2 ** retries, 2000);

type RedisClient = {
  isReady: boolean;
  on(event: "error", listener: (err: Error) => void): unknown;
  on(event: "ready", listener: () => void): unknown;
  connect(): Promise<unknown>;
  duplicate(): RedisClient;
  publish(channel: string, message: Buffer): Promise<number>;
  subscribe(channel: string, listener: (message: Buffer, channel: Buffer) => void, bufferMode: true): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  close(): Promise<void>;
  destroy(): void;
};

async function loadRedis(): Promise<(options: object) => RedisClient> {
  try {
    const redis = await import("redis");
    return redis.createClient as unknown as (options: object) => RedisClient;
  } catch (err) {
    throw new Error(`wasm-reactor: pubsub.redis needs the redis package (npm install redis): ${(err as Error).message}`);
  }
}

export class RedisRelay implements TopicRelay {
  private readonly id = randomBytes(ID_BYTES);
  private readonly prefix: string;
  private readonly wanted = new Set<string>();
  private isDown = false;
  private closing = false;
  private readonly onMessage = (message: Buffer, channel: Buffer) => this.received(message, channel);

  private constructor(options: RedisPubSubOptions, private readonly pub: RedisClient, private readonly sub: RedisClient,
    private readonly reports: RelayReports) {
    this.prefix = options.channelPrefix ?? "wasm-reactor:";
    for (const client of [pub, sub]) {
      client.on("error", (err) => this.failed(err));
      client.on("ready", () => this.ready());
    }
  }

  /** Connects both clients (waiting a little for Redis; without it, the server starts anyway and keeps trying). */
  static async start(options: RedisPubSubOptions, reports: RelayReports): Promise<RedisRelay> {
    const createClient = await loadRedis();
    const pub = createClient({ url: options.redis, disableOfflineQueue: true, socket: { reconnectStrategy: backoff } });
    const relay = new RedisRelay(options, pub, pub.duplicate(), reports);
    const connected = Promise.all([relay.pub.connect(), relay.sub.connect()]).then(() => true, () => false);
    await Promise.race([connected, new Promise((r) => setTimeout(r, CONNECT_WAIT_MS).unref())]);
    return relay;
  }

  publish(topic: string, payload: Buffer, binary: boolean): void {
    if (!this.pub.isReady) return; // down: this server's subscribers had it; others miss it
    const message = Buffer.allocUnsafe(1 + ID_BYTES + payload.length);
    message[0] = binary ? BINARY : 0;
    this.id.copy(message, 1);
    payload.copy(message, 1 + ID_BYTES);
    this.pub.publish(this.prefix + topic, message).catch((err: Error) => this.failed(err));
  }

  topicAdded(topic: string): void {
    this.wanted.add(topic);
    if (this.sub.isReady) this.sub.subscribe(this.prefix + topic, this.onMessage, true).catch((err: Error) => this.failed(err));
  }

  topicRemoved(topic: string): void {
    this.wanted.delete(topic);
    if (this.sub.isReady) this.sub.unsubscribe(this.prefix + topic).catch((err: Error) => this.failed(err));
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([this.pub, this.sub].map((c) => (c.isReady ? c.close().catch(() => c.destroy()) : c.destroy())));
  }

  private received(message: Buffer, channel: Buffer): void {
    if (message.length < 1 + ID_BYTES || message.subarray(1, 1 + ID_BYTES).equals(this.id)) return; // ours, or not ours to read
    const topic = channel.toString("utf8").slice(this.prefix.length);
    if (this.wanted.has(topic)) this.reports.deliver(topic, message.subarray(1 + ID_BYTES), (message[0] & BINARY) !== 0);
  }

  private failed(err: Error): void {
    if (this.isDown || this.closing) return;
    this.isDown = true;
    this.reports.down(err);
  }

  /** A client is (re)connected: once both are, subscribe again to every topic wanted here, and say Redis is back. */
  private ready(): void {
    if (!this.pub.isReady || !this.sub.isReady || this.closing) return;
    for (const topic of this.wanted) this.sub.subscribe(this.prefix + topic, this.onMessage, true).catch((err: Error) => this.failed(err));
    if (!this.isDown) return;
    this.isDown = false;
    this.reports.up();
  }
}
