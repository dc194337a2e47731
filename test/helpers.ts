// Shared test tools: start a server on an ephemeral port, talk to it over real
// sockets on 127.0.0.1, and always clean up.
import { randomBytes } from "node:crypto";
import net from "node:net";
import { Random } from "../host/sim.js";
import { createServer, type Server, type ServerOptions } from "../src/index.js";

export const HOST = "127.0.0.1";

/** The hosts every protocol suite runs against: one table-driven suite, not copies. */
export const BACKENDS = ["native", "uring", "net"] as const;

export async function startServer(options: ServerOptions = {}): Promise<Server> {
  return createServer({ host: HOST, port: 0, ...options }).listen();
}

export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: HOST });
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** Resolves with the first `length` bytes the socket receives (rejects on close or timeout). */
export function receive(socket: net.Socket, length: number, timeoutMs = 20_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const done = (err?: Error) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, got));
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= length) done();
    };
    const onClose = () => done(new Error(`socket closed after ${got} of ${length} bytes`));
    const timer = setTimeout(() => done(new Error(`timed out after ${got} of ${length} bytes`)), timeoutMs);
    socket.on("data", onData);
    socket.once("close", onClose);
  });
}

/**
 * Resolves when the socket closes, whether cleanly or by reset. (events.once would
 * reject on an 'error' first, and a reset is often exactly what a test expects.)
 */
export function closed(socket: net.Socket): Promise<void> {
  socket.on("error", () => {});
  return new Promise((resolve) => socket.once("close", () => resolve()));
}

/** Everything the socket receives until the peer closes it. */
export function receiveAll(socket: net.Socket, timeoutMs = 20_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error("timed out waiting for the server to close")), timeoutMs);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

export async function echoRoundTrip(socket: net.Socket, payload: Buffer, timeoutMs?: number): Promise<Buffer> {
  const reply = receive(socket, payload.length, timeoutMs);
  socket.write(payload);
  return reply;
}

export function payload(bytes: number): Buffer {
  return randomBytes(bytes);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until check() is true or the time is up. */
export async function waitFor(check: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A seeded generator (the simulator's), so a failing random split can be rerun from its seed. */
export function prng(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}
