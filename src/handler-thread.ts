// One worker of HandlerPool (src/handler-pool.ts): loads the application's handler
// module and answers the requests it is sent, posting each piece of the answer back.
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import type { FromHandlerThread, HandlerThreadInit, ToHandlerThread } from "./handler-pool.js";
import { runWebSocketEvent, type WebSocketHandlers, type WorkerSocket } from "./handler-thread-ws.js";
import { handleRequest, type RequestListener } from "./http.js";

const init = workerData as HandlerThreadInit;
const port = parentPort!;
const target = /^[a-z]+:/.test(init.handler) ? init.handler
  : pathToFileURL(isAbsolute(init.handler) ? init.handler : resolve(init.handler)).href;
const loaded = (await import(target)) as { default?: RequestListener; handler?: RequestListener } & WebSocketHandlers;
const handler = loaded.default ?? loaded.handler;
if (init.webSocket ? typeof loaded.message !== "function" : typeof handler !== "function") {
  throw new Error(`wasm-reactor: ${init.handler} exports no ${init.webSocket ? "WebSocket message handler (\"message\")" : "request handler (default or \"handler\")"}`);
}
port.postMessage({ ready: true } satisfies FromHandlerThread);
const post = (m: FromHandlerThread) => port.postMessage(m);
const sockets = new Map<number, WorkerSocket>();
// Each connection's events run one after another, each once the previous handler's promise settled.
const turns = new Map<number, Promise<void>>();

port.on("message", (m: ToHandlerThread) => {
  if ("ws" in m) {
    // A handler that throws or rejects is reported; the connection goes on (as a 'message' listener's would).
    const turn = (turns.get(m.conn) ?? Promise.resolve()).then(() => runWebSocketEvent(loaded, sockets, m, post))
      .catch((err) => post({ error: (err as Error)?.stack ?? String(err) }));
    if (m.ws === "close") void turn.then(() => turns.get(m.conn) === turn && turns.delete(m.conn));
    turns.set(m.conn, turn);
    return;
  }
  const { conn, descriptor } = m;
  const res = handleRequest([handler!], { conn, descriptor: Buffer.from(descriptor.buffer, descriptor.byteOffset, descriptor.byteLength) },
    (c, piece) => post({ conn: c, piece }), (err) => post({ error: (err as Error)?.stack ?? String(err) }));
  // Busy until the answer has ended (an async handler may take a while).
  if (res.writableEnded) post({ done: conn });
  else res.once("finish", () => post({ done: conn }));
});
