// Line protocol: each complete line is answered with itself, however the bytes were split
// or glued in transit; a line over maxLineLength gets "ERR line too long" and that
// connection (only) is closed. Several ports, one reactor.
// Run: node examples/line.mjs, then: printf 'hello\n' | nc 127.0.0.1 2000
import { createServer } from "wasm-reactor";

const server = await createServer({
  protocol: "line",
  port: Number(process.env.PORT ?? 2000),
  ports: 3,               // 2000, 2001, 2002 (with PORT=0: three ephemeral ports)
  maxLineLength: 4096,
  idleTimeout: 30_000,    // close connections silent for 30 s
}).listen();
console.log(`line: listening on port ${server.addresses().map((a) => a.port).join(", port ")}`);
process.once("SIGINT", () => server.close());
