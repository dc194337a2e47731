#!/usr/bin/env node
// wasm-reactor command line: serve a protocol on one or many ports.
import { parseArgs } from "node:util";
import { HTTP_PROTOCOLS, PROTOCOLS, type Protocol } from "../host/module.js";
import { createServer } from "./server.js";
import { runReplay } from "./replay.js";
import { parseRouteFlag } from "./routes.js";
import type { WebSocket } from "./websocket.js";
import { runSimulate, UsageError } from "./simulate.js";
import { packageVersion } from "../host/paths.js";

const USAGE = `Usage: wasm-reactor serve [options]
       wasm-reactor simulate [options]   (see wasm-reactor simulate --help)
       wasm-reactor replay <trace.wrt>   (see wasm-reactor replay --help)

Serve a protocol whose handlers run in WebAssembly, on a native epoll reactor.

Options:
  --protocol <name>     ${Object.keys(PROTOCOLS).join(" | ")} (default: echo)
                        ws-echo: WebSocket echo in the module; ws: echo from a JS handler
  --port <n>            first port to listen on (default: 2000; 0 = ephemeral)
  --ports <n>           listen on n consecutive ports: port .. port+n-1 (default: 1)
  --host <address>      address to bind (default: ::, which accepts IPv4 too)
  --max-line <bytes>    line: longest line accepted (default: 65536)
  --route <path=body>   http: answer GET <path> with body, inside the module (repeatable;
                        default: / says hello)
  --idle-timeout <ms>   echo, line: close connections that send nothing this long (default: never)
  --max-connections <n> past n open connections, close new ones at once (default: no limit)
  --reuse-port          set SO_REUSEPORT on the listening sockets
  --threads <n>         main–sub reactors: n sub-reactor threads sharing the ports (SO_REUSEPORT);
                        in-module protocols (echo, line, http routes, ws-echo); default: 1
  --accept <mode>       with --threads: reuseport (every thread listens) | handoff (the main
                        thread accepts and hands connections to the threads in turn)
  --workers <m>         http: run the request handler of --handler on m worker threads
  --handler <module>    http: a module whose default export is (req, res) => … (with --workers)
  --backend <host>      native (epoll addon) | net (node:net); default: native where it loads
  --record <file>       record every batch to a trace file (complete after Ctrl-C or SIGTERM)
  --flight-recorder <file>  keep the last 1000 batches in memory; write them to <file> if the module traps
  -h, --help            show this help

Examples:
  wasm-reactor serve --protocol echo --port 2000
  wasm-reactor serve --protocol line --port 2000 --ports 20
  wasm-reactor serve --protocol http --port 8080 --route /=hello --route /health=ok
  wasm-reactor serve --protocol ws --port 9001`;

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} expects a whole number, got "${value}"`);
  return Number(value);
}

function routesFromFlags(flags: string[] | undefined, protocol: string): Record<string, string> | undefined {
  if (flags === undefined) return undefined;
  if (!HTTP_PROTOCOLS.includes(protocol as Protocol)) throw new UsageError("--route needs --protocol http (or ws-echo)");
  return Object.fromEntries(flags.map((flag) => {
    const route = parseRouteFlag(flag);
    if (!route) throw new UsageError(`--route expects /path=body, got "${flag}"`);
    return route;
  }));
}

function acceptMode(value: string | undefined): "reuseport" | "handoff" | undefined {
  if (value === undefined || value === "reuseport" || value === "handoff") return value;
  throw new UsageError(`unknown accept mode "${value}" (expected reuseport, handoff)`);
}

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      protocol: { type: "string" },
      port: { type: "string" },
      ports: { type: "string" },
      host: { type: "string" },
      "max-line": { type: "string" },
      route: { type: "string", multiple: true },
      "reuse-port": { type: "boolean" },
      "idle-timeout": { type: "string" },
      "max-connections": { type: "string" },
      threads: { type: "string" },
      workers: { type: "string" },
      accept: { type: "string" },
      handler: { type: "string" },
      backend: { type: "string" },
      record: { type: "string" },
      "flight-recorder": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const protocol = values.protocol ?? "echo";
  if (!(protocol in PROTOCOLS)) {
    throw new UsageError(`unknown protocol "${protocol}" (expected ${Object.keys(PROTOCOLS).join(", ")})`);
  }
  const backend = values.backend;
  if (backend !== undefined && backend !== "native" && backend !== "net") {
    throw new UsageError(`unknown backend "${backend}" (expected native, net)`);
  }
  const server = createServer({
    backend,
    protocol: protocol as keyof typeof PROTOCOLS,
    port: positiveInt("port", values.port, 2000),
    ports: positiveInt("ports", values.ports, 1),
    host: values.host,
    maxLineLength: positiveInt("max-line", values["max-line"], 64 * 1024),
    routes: routesFromFlags(values.route, protocol),
    reusePort: values["reuse-port"],
    idleTimeout: positiveInt("idle-timeout", values["idle-timeout"], 0),
    maxConnections: positiveInt("max-connections", values["max-connections"], 0),
    threads: positiveInt("threads", values.threads, 1),
    workers: positiveInt("workers", values.workers, 0),
    accept: acceptMode(values.accept),
    handler: values.handler,
    record: values.record,
    flightRecorder: values["flight-recorder"] === undefined ? undefined : { path: values["flight-recorder"] },
  });
  server.on("trap", (err: Error, info: { flightRecording?: string }) => {
    const saved = info.flightRecording ? ` (flight recording: ${info.flightRecording})` : "";
    console.error(`wasm-reactor: module trapped, restarted: ${err.message}${saved}`);
  });
  if (protocol === "ws") {
    // From the command line there is no application code: JS echoes, to show the JS path.
    server.on("connection", (ws: WebSocket) => ws.on("message", (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary })));
  }
  await server.listen();
  const ports = server.addresses().map((a) => a.port);
  const consecutive = ports.every((p, i) => p === ports[0] + i);
  const threads = server.options.threads > 1 ? `, ${server.options.threads} threads` : "";
  const shown = ports.length === 1 ? `port ${ports[0]}`
    : consecutive ? `ports ${ports[0]}-${ports[ports.length - 1]}` : `ports ${ports.join(", ")}`;
  console.log(`wasm-reactor: serving ${protocol} on ${server.address()!.address} ${shown}, ${server.backend} host${threads} (Ctrl-C to stop)`);
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "-h" || command === "--help" || command === "help") {
    console.log(USAGE);
    return;
  }
  if (command === "--version" || command === "-v" || command === "version") {
    console.log(packageVersion());
    return;
  }
  if (command === "replay") {
    process.exitCode = runReplay(rest);
    return;
  }
  if (command === "simulate") {
    process.exitCode = runSimulate(rest);
    return;
  }
  if (command !== "serve") throw new UsageError(`unknown command "${command}"`);
  await serve(rest);
}

main(process.argv.slice(2)).catch((err: Error & { code?: string }) => {
  // One line, no stack: usage mistakes and busy ports are the user's to fix, not bugs.
  const hint = err instanceof UsageError || err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
    || err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" ? " (see wasm-reactor --help)" : "";
  console.error(`wasm-reactor: ${err.message}${hint}`);
  process.exit(err instanceof UsageError || err.code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1);
});
