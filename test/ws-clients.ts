// A JS WebSocket server (protocol "ws") for one test, and the ws package's client against it.
import WebSocket from "ws";
import { createServer, type Server } from "../src/server.js";
import type { ServerOptions } from "../src/options.js";
import type { WebSocket as ServerSocket } from "../src/websocket.js";
import type { IncomingRequest } from "../src/http.js";

/** Runs `body` against a fresh server whose 'connection' listener is `onConnection`; closes it after. */
export async function withServer(options: ServerOptions, onConnection: (ws: ServerSocket, req: IncomingRequest, server: Server) => void,
  body: (port: number, server: Server) => Promise<void>) {
  const server = createServer({ host: "127.0.0.1", port: 0, protocol: "ws", ...options });
  server.on("connection", (ws, req) => onConnection(ws, req, server));
  await server.listen();
  try {
    await body(server.address()!.port, server);
  } finally {
    await server.close();
  }
}

export function open(port: number, path = "/"): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/** Collects a client's messages as text. */
export function inbox(ws: WebSocket): string[] {
  const got: string[] = [];
  ws.on("message", (d) => got.push(String(d)));
  return got;
}

/** A client of test/fixtures/servers/pubsub-server.ts subscribed to `topic`, and what it has received. */
export async function topicClient(port: number, topic: string): Promise<{ ws: WebSocket; got: string[] }> {
  const ws = await open(port, `/?topic=${topic}`);
  return { ws, got: inbox(ws) };
}

export const closeOf = (ws: WebSocket | ServerSocket) =>
  new Promise<[number, string]>((r) => (ws as WebSocket).once("close", (code: number, reason: Buffer) => r([code, reason.toString()])));
