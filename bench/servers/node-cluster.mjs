// node:http with cluster, N processes, each running the CPU-heavy handler of cpu-handler.mjs.
import cluster from "node:cluster";
import http from "node:http";
import handler from "./cpu-handler.mjs";

const [port, count] = [Number(process.argv[2] ?? 0), Number(process.argv[3] ?? 2)];
if (cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_NONE; // the kernel spreads connections, as with reuseport
  const workers = Array.from({ length: count }, () => cluster.fork());
  let ready = 0;
  for (const w of workers) {
    w.on("message", (m) => {
      if (++ready === count) console.log(`listening ${m.port}`);
    });
  }
  // The first worker picks the port when it is 0; cluster shares it with the rest.
  process.on("SIGTERM", () => {
    for (const w of workers) w.kill();
    process.exit(0);
  });
} else {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 60_000;
  server.listen(port || Number(process.env.BENCH_PORT ?? 0), "127.0.0.1", () => process.send({ port: server.address().port }));
}
