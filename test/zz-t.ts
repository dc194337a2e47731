import { createServer } from "../src/index.js";
import net from "node:net";
import { fixtureModule } from "./fixture-modules.js";
const backend = process.argv[2] as any;
const mod = fixtureModule("ticker");
let worst = 0;
for (let k = 0; k < 40; k++) {
  const s = await createServer({ host: "127.0.0.1", port: 0, backend, protocol: "module", module: mod }).listen();
  const c = net.connect(s.address()!.port, "127.0.0.1");
  await new Promise((r) => c.once("connect", r));
  const t0 = Date.now();
  c.write("stop");
  const d = await new Promise<Buffer>((r) => c.once("data", r));
  const dt = Date.now() - t0;
  worst = Math.max(worst, dt);
  if (dt > 20 || !d.toString().startsWith("stopped")) console.log(k, dt, JSON.stringify(d.toString()), s.stats().batches);
  c.destroy(); await s.close();
}
console.log(backend, "worst", worst);
