// Reactor + worker pool: the reactor (and the module in it) parses requests; JS request
// handlers run on a pool of worker threads, so a slow or CPU-heavy handler holds one
// worker, not the reactor. Each worker loads the application's handler module; answers
// come back to the owning reactor, which alone writes to sockets (the native host is
// woken through its eventfd when an answer is injected).
import type { Worker } from "node:worker_threads";
import type { RequestHandoff } from "./http.js";
import { startWorker } from "../host/worker-script.js";

export interface HandlerThreadInit {
  /** URL or path of a module whose default export (or `handler`) is a request listener. */
  handler: string;
}

/** Worker → pool: a piece of an answer, an error to report, or "ready". */
export type FromHandlerThread = { conn: number; piece: Uint8Array } | { error: string } | { ready: true } | { done: number };

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

  constructor(init: HandlerThreadInit, count: number, respond: (conn: number, piece: Uint8Array) => void,
    onError: (message: string) => void) {
    this.inFlight = new Array(count).fill(0);
    this.runningSince = new Array(count).fill(0);
    this.workers = Array.from({ length: count }, () => startWorker(new URL("./handler-thread.js", import.meta.url), init));
    this.ready = Promise.all(this.workers.map((w, i) => new Promise<void>((resolve, reject) => {
      w.on("message", (m: FromHandlerThread) => {
        if ("ready" in m) resolve();
        else if ("piece" in m) respond(m.conn, m.piece);
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
