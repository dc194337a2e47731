// The streaming bench's client: POSTs `count` bodies of `mib` MiB, one after the other on
// one keep-alive connection, in 1 MiB writes, and prints the MB/s it saw as JSON.
import { randomBytes } from "node:crypto";
import http from "node:http";

const [port, mib, count] = process.argv.slice(2).map(Number);
const body = randomBytes(mib << 20);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function upload() {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: "127.0.0.1", port, method: "POST", path: "/", agent, headers: { "content-length": body.length } }, (res) => {
      res.resume().on("end", resolve);
    });
    r.on("error", reject);
    for (let at = 0; at < body.length; at += 1 << 20) r.write(body.subarray(at, at + (1 << 20)));
    r.end();
  });
}

await upload(); // warm-up
const started = process.hrtime.bigint();
for (let i = 0; i < count; i++) await upload();
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(JSON.stringify({ mbps: (count * body.length) / seconds / 1e6, seconds }));
agent.destroy();
