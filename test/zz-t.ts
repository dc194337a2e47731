import { createServer } from "../src/index.js";
import net from "node:net";
const backend = process.argv[2] as any;
const s = await createServer({ host: "127.0.0.1", port: 0, backend, protocol: "echo" }).listen();
for (let i = 0; i < 8; i++) {
  const t0 = process.hrtime.bigint();
  const c = net.connect(s.address()!.port, "127.0.0.1");
  await new Promise((r) => c.once("connect", r));
  const t1 = process.hrtime.bigint();
  c.write("stop");
  await new Promise((r) => c.once("data", r));
  const t2 = process.hrtime.bigint();
  c.write("again");
  await new Promise((r) => c.once("data", r));
  const t3 = process.hrtime.bigint();
  console.log(backend, "connect", Number(t1 - t0) / 1e6, "first echo", Number(t2 - t1) / 1e6, "second", Number(t3 - t2) / 1e6);
  c.destroy();
}
await s.close();
