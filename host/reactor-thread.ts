// One sub-reactor of ThreadedHost (host/threads.ts): a worker thread running its own
// NativeHost, its own epoll (or io_uring) instance and its own module instance. It answers the main
// thread's calls (listen, start, close) and keeps its counters in shared memory.
import { parentPort, workerData } from "node:worker_threads";
import { NativeHost } from "./native.js";
import { STAT_FIELDS, type Injection, type ThreadInit, type ThreadMessage } from "./threads.js";

const init = workerData as ThreadInit;
const port = parentPort!;
const host = new NativeHost(init.config,
  (err, isolated) => port.postMessage({ kind: "trap", message: err.message, isolated } satisfies ThreadMessage), undefined,
  init.toJs ? (outbox) => port.postMessage({ kind: "outbox", outbox } satisfies ThreadMessage) : undefined, init.kernel);
const counters = new Float64Array(init.stats, init.index * STAT_FIELDS.length * 8, STAT_FIELDS.length);

function publishStats(): void {
  const s = host.stats();
  STAT_FIELDS.forEach((f, i) => (counters[i] = s[f]));
}
const timer = setInterval(publishStats, 20);
timer.unref();

const methods: Record<string, (...args: never[]) => unknown> = {
  listen: (spec: Parameters<NativeHost["listen"]>[0]) => host.listen(spec),
  start: () => host.start(),
  setMaxConnections: (max: number) => host.setMaxConnections(max),
  registryId: () => host.registryId(),
  close: async (timeoutMs: number) => {
    await host.close(timeoutMs);
    publishStats();
    clearInterval(timer);
    setImmediate(() => port.close()); // let the reply go out first; then the thread ends
  },
};

port.on("message", async ({ id, method, args, inject }: { id: number; method: string; args: never[]; inject?: Injection[] }) => {
  if (inject) {
    for (const [op, conn, bytes] of inject) host.inject(op, conn, bytes);
    return;
  }
  try {
    const value = await methods[method](...args);
    port.postMessage({ id, ok: true, value } satisfies ThreadMessage);
  } catch (err) {
    const e = err as Error & { code?: string; errno?: number };
    port.postMessage({ id, ok: false, error: { message: e.message, code: e.code, errno: e.errno } } satisfies ThreadMessage);
  }
});
