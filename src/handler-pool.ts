// Reactor + worker pool: the reactor (and the module in it) parses requests; JS request
// handlers run on a pool of worker threads, so a slow or CPU-heavy handler holds one
// worker, not the reactor. Each worker loads the application's handler module; answers
// come back to the owning reactor, which alone writes to sockets (the native host is
// woken through its eventfd when an answer is injected).
import type { Worker } from "node:worker_threads";
import type { RequestHandoff } from "./http.js";
import { startWorker } from "../host/worker-script.js";

export interface HandlerThreadInit {
  /** URL or path of a module whose default export (or `handler`) is a request listener, or (webSocket) that exports `message`. */
  handler: string;
  /** protocol ws: the module handles WebSocket messages (src/handler-thread-ws.ts). */
  webSocket?: boolean;
}

/** Pool → worker: a request, or a WebSocket event (protocol ws). */
export type ToHandlerThread = { conn: number; descriptor: Uint8Array }
  | { ws: "open"; conn: number; url: string }
  | { ws: "message"; conn: number; data: Uint8Array; binary: boolean }
  | { ws: "close"; conn: number; code: number };

/** What a worker does to a WebSocket (src/handler-thread-ws.ts). */
export type WebSocketAction = { conn: number; ws: "send"; data: Uint8Array; binary: boolean }
  | { conn: number; ws: "publish"; topic: string; data: Uint8Array; binary: boolean }
  | { conn: number; ws: "subscribe"; topic: string }
  | { conn: number; ws: "close"; code: number; reason: string };

/** Worker → pool: a piece of an answer, what to do to a WebSocket, an error to report, "ready", or done with one. */
export type FromHandlerThread = { conn: number; piece: Uint8Array } | WebSocketAction | { error: string } | { ready: true } | { done: number };

/**
 * The thread-pool model: a CPU-bound handler holds its worker. A request goes to a free
 * worker if there is one. When all are busy, a worker may take one more, queued behind
 * the one it runs (so it never idles waiting for the main thread to send the next), but
 * only if what it runs started less than SLOW_MS ago: a request must never wait behind
 * a slow one. Past that, requests wait here, in order, for the first worker to finish.
 */
const DEPTH = 2;
const SLOW_MS = 5;

export class HandlerPool {
  private readonly workers: Worker[];
  private readonly inFlight: number[];
  private readonly runningSince: number[];
  private readonly waiting: RequestHandoff[] = [];
  private readonly ready: Promise<void>;

  /** Which worker each open WebSocket's events go to: one per connection, so they run in order. */
  private readonly wsWorker = new Map<number, number>();
  private readonly wsPerWorker: number[];

  constructor(init: HandlerThreadInit, count: number, respond: (conn: number, piece: Uint8Array) => void,
    onError: (message: string) => void, act: (action: WebSocketAction) => void = () => {}) {
    this.wsPerWorker = new Array(count).fill(0);
    this.inFlight = new Array(count).fill(0);
    this.runningSince = new Array(count).fill(0);
    this.workers = Array.from({ length: count }, () => startWorker(new URL("./handler-thread.js", import.meta.url), init));
    this.ready = Promise.all(this.workers.map((w, i) => new Promise<void>((resolve, reject) => {
      w.on("message", (m: FromHandlerThread) => {
        if ("ready" in m) resolve();
        else if ("piece" in m) respond(m.conn, m.piece);
        else if ("ws" in m) act(m);
        else if ("done" in m) this.finished(i);
        else onError(m.error);
      });
      w.once("error", reject);
    }))).then(() => undefined);
  }

  /** Resolves once every worker has loaded the handler module (rejects if one could not). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  /** Requests waiting for a free worker. */
  get queued(): number {
    return this.waiting.length;
  }

  dispatch(request: RequestHandoff): void {
    const worker = this.pick();
    if (worker < 0) this.waiting.push(request);
    else this.run(worker, request);
  }

  /**
   * A WebSocket event (protocol ws). A connection's events all go to one worker (the one
   * with the fewest connections when it opened), in order: its handler sees its messages
   * one after another, as the `ws` package's would.
   */
  webSocketEvent(event: Extract<ToHandlerThread, { ws: string }>): void {
    let worker = this.wsWorker.get(event.conn);
    if (worker === undefined) {
      if (event.ws !== "open") return;
      worker = this.wsPerWorker.indexOf(Math.min(...this.wsPerWorker));
      this.wsWorker.set(event.conn, worker);
      this.wsPerWorker[worker]++;
    }
    if (event.ws === "close") {
      this.wsWorker.delete(event.conn);
      this.wsPerWorker[worker]--;
    }
    this.workers[worker].postMessage(event);
  }

  private pick(): number {
    const free = this.inFlight.indexOf(0);
    if (free >= 0) return free;
    const now = performance.now();
    let best = -1;
    for (let i = 0; i < this.inFlight.length; i++) {
      if (this.inFlight[i] >= DEPTH || now - this.runningSince[i] >= SLOW_MS) continue;
      if (best < 0 || this.runningSince[i] > this.runningSince[best]) best = i;
    }
    return best;
  }

  private run(worker: number, request: RequestHandoff): void {
    if (this.inFlight[worker]++ === 0) this.runningSince[worker] = performance.now();
    // Copied, not transferred: a small Buffer shares its ArrayBuffer with Node's pool.
    this.workers[worker].postMessage({ conn: request.conn, descriptor: request.descriptor });
  }

  private finished(worker: number): void {
    this.inFlight[worker]--;
    this.runningSince[worker] = performance.now(); // the queued one (if any) starts now
    const next = this.waiting.shift();
    if (next) this.run(worker, next);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
