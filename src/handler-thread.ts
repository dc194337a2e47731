// One worker of HandlerPool (src/handler-pool.ts): loads the application's handler
// module and answers the requests it is sent, posting each piece of the answer back.
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import type { FromHandlerThread, HandlerThreadInit } from "./handler-pool.js";
import { handleRequest, type RequestListener } from "./http.js";

const init = workerData as HandlerThreadInit;
const port = parentPort!;
const target = /^[a-z]+:/.test(init.handler) ? init.handler
  : pathToFileURL(isAbsolute(init.handler) ? init.handler : resolve(init.handler)).href;
const loaded = (await import(target)) as { default?: RequestListener; handler?: RequestListener };
const handler = loaded.default ?? loaded.handler;
if (typeof handler !== "function") throw new Error(`wasm-reactor: ${init.handler} exports no request handler (default or "handler")`);
port.postMessage({ ready: true } satisfies FromHandlerThread);

port.on("message", ({ conn, descriptor }: { conn: number; descriptor: Uint8Array }) => {
  const post = (m: FromHandlerThread) => port.postMessage(m);
  const res = handleRequest([handler], { conn, descriptor: Buffer.from(descriptor.buffer, descriptor.byteOffset, descriptor.byteLength) },
    (c, piece) => post({ conn: c, piece }), (err) => post({ error: (err as Error)?.stack ?? String(err) }));
  // Busy until the answer has ended (an async handler may take a while).
  if (res.writableEnded) post({ done: conn });
  else res.once("finish", () => post({ done: conn }));
});
