// Starting a worker thread on one of our scripts: the built .js, or, when the code runs
// as TypeScript source under tsx (the tests), the .ts through tsx's loader, which worker
// threads do not inherit from the main thread.
import { Worker } from "node:worker_threads";

/** `script` is a URL of the .js file next to the caller, as built. */
export function startWorker(script: URL, workerData: unknown): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(script, { workerData });
  const source = script.href.replace(/\.js$/, ".ts");
  const boot = `import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
