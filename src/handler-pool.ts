// Reactor + worker pool: the reactor (and the module in it) parses requests; JS request
// handlers run on a pool of worker threads, so a slow or CPU-heavy handler holds one
// worker, not the reactor. Each worker loads the application's handler module; answers
// come back to the owning reactor, which alone writes to sockets (the native host is
// woken through its eventfd when an answer is injected).
import type { Worker } from "node:worker_threads";
import { abandonRequest, type RequestHandoff } from "./http.js";
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
  /** Requests a worker holds (running or queued behind the one it runs): answered for it if it stops. */
  private readonly held = new Map<number, { worker: number; request: RequestHandoff; answerStarted: boolean }>();
  private closing = false;

  /** Which worker each open WebSocket's events go to: one per connection, so they run in order. */
  private readonly wsWorker = new Map<number, number>();
  private readonly wsPerWorker: number[];

  constructor(private readonly init: HandlerThreadInit, count: number, private readonly respond: (conn: number, piece: Uint8Array) => void,
    private readonly onError: (message: string) => void, private readonly act: (action: WebSocketAction) => void = () => {}) {
    this.wsPerWorker = new Array(count).fill(0);
    this.inFlight = new Array(count).fill(0);
    this.runningSince = new Array(count).fill(0);
    this.workers = [];
    this.ready = Promise.all(Array.from({ length: count }, (_, i) => this.start(i))).then(() => undefined);
  }

  /**
   * Starts worker `i`; resolves once it has loaded the handler module, rejects if it
   * could not. A worker that stops later (an error thrown outside any request, an
   * unhandled rejection, process.exit in the handler) is reported, its requests are
   * answered for it, and a new one takes its place: one bad handler call costs the
   * exchanges that worker held, not a worker of the pool for good.
   */
  private start(i: number): Promise<void> {
    const w = startWorker(new URL("./handler-thread.js", import.meta.url), this.init);
    this.workers[i] = w;
    return new Promise<void>((resolve, reject) => {
      let loaded = false;
      let failure: Error | undefined;
      w.on("message", (m: FromHandlerThread) => {
        if ("ready" in m) {
          loaded = true;
          resolve();
        } else if ("piece" in m) {
          const held = this.held.get(m.conn);
          if (held) held.answerStarted = true;
          this.respond(m.conn, m.piece);
        } else if ("ws" in m) this.act(m);
        else if ("done" in m) this.finished(i, m.done);
        else this.onError(m.error);
      });
      w.on("error", (err) => {
        failure = err as Error;
        if (!loaded) reject(err);
      });
      w.once("exit", (code) => {
        if (!loaded || this.closing || this.workers[i] !== w) return;
        this.replace(i, failure?.stack ?? String(failure ?? `the handler called process.exit(${code})`));
      });
    });
  }

  private replace(i: number, why: string): void {
    this.onError(`wasm-reactor: a handler worker stopped (${why}); its requests get a 500 and a new worker takes its place`);
    this.abandonHeld(i);
    for (const [conn, worker] of this.wsWorker) {
      if (worker !== i) continue;
      this.wsWorker.delete(conn);
      this.act({ conn, ws: "close", code: 1011, reason: "handler worker stopped" });
    }
    this.wsPerWorker[i] = 0;
    this.inFlight[i] = 0;
    // Requests posted to it meanwhile wait in its port until the new one has loaded.
    this.start(i).catch((err: Error) => {
      this.inFlight[i] = Infinity; // it cannot load the module now: it takes no more requests
      this.abandonHeld(i);
      this.onError(`wasm-reactor: a replacement handler worker could not load the handler module: ${err.message}`);
    });
    for (let next = this.waiting.shift(); next; next = this.waiting.shift()) {
      const worker = this.pick();
      if (worker < 0) {
        this.waiting.unshift(next);
        break;
      }
      this.run(worker, next);
    }
  }

  /** Answers for worker `i` every request it held: it will never answer them. */
  private abandonHeld(i: number): void {
    const stopped = new Error("wasm-reactor: the request's handler worker stopped");
    for (const [conn, held] of this.held) {
      if (held.worker !== i) continue;
      this.held.delete(conn);
      abandonRequest(held.request, held.answerStarted, this.respond, stopped);
    }
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
    this.held.set(request.conn, { worker, request, answerStarted: false });
    // Copied, not transferred: a small Buffer shares its ArrayBuffer with Node's pool.
    this.workers[worker].postMessage({ conn: request.conn, descriptor: request.descriptor });
  }

  private finished(worker: number, conn: number): void {
    this.held.delete(conn);
    this.inFlight[worker]--;
    this.runningSince[worker] = performance.now(); // the queued one (if any) starts now
    const next = this.waiting.shift();
    if (next) this.run(worker, next);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
