// Rollback isolation's recovery: 200 clients echo lines on the `line` protocol without
// pause while, every 2.2 s, one more connection sends input that makes the module trap
// (five traps within ten seconds is the most that are isolated; a sixth restarts).
// Reports how long each recovery took (restore the checkpoint, re-run the batches since,
// run the trapping one again: TrapInfo.recoveryMs), the bystanders' round trips per
// second, and any byte a bystander got wrong (there must be none). Server and clients
// share this process: the round-trip rate is for comparison between hosts, not a peak.
import net from "node:net";
import { createServer } from "../dist/src/index.js";
import { TRAP_MAGIC } from "../dist/host/module.js";
import { median } from "./common.mjs";

const CLIENTS = 200;
const LINE = "x".repeat(99) + "\n";
const SECONDS = 11;
const POISON_EVERY_MS = 2200;

function bystander(port, stats) {
  const socket = net.connect(port, "127.0.0.1");
  let pending = "";
  socket.setEncoding("utf8");
  socket.on("connect", () => socket.write(LINE));
  socket.on("data", (text) => {
    pending += text;
    while (pending.length >= LINE.length) {
      if (pending.slice(0, LINE.length) !== LINE) stats.wrong++;
      pending = pending.slice(LINE.length);
      stats.roundTrips++;
      socket.write(LINE);
    }
  });
  socket.on("close", () => stats.closed++);
  return socket;
}

export async function recoveryBench() {
  const seconds = SECONDS;
  console.log(`\nRollback isolation: ${CLIENTS} clients echoing lines, one poisoned input every ${POISON_EVERY_MS} ms, ${seconds} s per host`);
  console.log("host     traps  recovery ms (median / max)  bystander rt/s  bystanders lost  wrong bytes");
  for (const backend of ["native", "net"]) {
    const server = await createServer({ protocol: "line", backend, trapOnMagic: true, host: "127.0.0.1", port: 0 }).listen();
    const port = server.address().port;
    const recoveries = [];
    let restarts = 0;
    server.on("trap", (_err, info) => (info.recoveryMs === undefined ? restarts++ : recoveries.push(info.recoveryMs)));
    const stats = { roundTrips: 0, wrong: 0, closed: 0 };
    const sockets = Array.from({ length: CLIENTS }, () => bystander(port, stats));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const start = stats.roundTrips;
    const poison = setInterval(() => net.connect(port, "127.0.0.1", function () { this.end(TRAP_MAGIC); }).on("error", () => {}), POISON_EVERY_MS);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    clearInterval(poison);
    const rate = (stats.roundTrips - start) / seconds;
    const lost = stats.closed; // before the bench closes them itself
    for (const s of sockets) s.destroy();
    await server.close();
    console.log(`${backend.padEnd(7)}  ${String(recoveries.length).padStart(5)}  ${median(recoveries).toFixed(2).padStart(13)} / `
      + `${Math.max(...recoveries).toFixed(2).padEnd(11)}  ${rate.toFixed(0).padStart(14)}  ${String(lost).padStart(15)}  ${String(stats.wrong).padStart(11)}`
      + (restarts > 0 ? `  (${restarts} not isolated: restarts)` : ""));
  }
}
