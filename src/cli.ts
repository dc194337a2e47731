#!/usr/bin/env node
// wasm-reactor command line: serve a protocol on one or many ports.
import { parseArgs } from "node:util";
import { PROTOCOLS, type Protocol } from "../host/module.js";
import type { Backend } from "./options.js";
import { runBuild } from "./build.js";
import { createServer } from "./server.js";
import { runReplay } from "./replay.js";
import { parseRouteFlag } from "./routes.js";
import { runSimulate, UsageError } from "./simulate.js";
import { packageVersion } from "../host/paths.js";

const USAGE = `Usage: wasm-reactor <command> [options]

Commands:
  serve      serve a protocol whose handlers run in WebAssembly (see wasm-reactor serve --help)
  build      compile your own handler into a module (see wasm-reactor build --help)
  simulate   run the module on a seeded simulated network (see wasm-reactor simulate --help)
  replay     replay a recorded trace against the module (see wasm-reactor replay --help)

Options:
  -v, --version   print the version
  -h, --help      show this help`;

const SERVE_USAGE = `Usage: wasm-reactor serve [options]

Serve a protocol whose handlers run in WebAssembly, on a native epoll reactor.

Options:
  --protocol <name>     ${PROTOCOLS.join(" | ")} (default: echo)
                        ws-echo: WebSocket echo in the module; ws: echo from a JS handler
  --module <file>       serve your own handler module (built with wasm-reactor build) instead
  --port <n>            first port to listen on (default: 2000; 0 = ephemeral)
  --ports <n>           listen on n consecutive ports: port .. port+n-1 (default: 1)
  --host <address>      address to bind (default: ::, which accepts IPv4 too)
  --max-line <bytes>    line: longest line accepted (default: 65536)
  --route <path=body>   http, ws-echo, ws: answer GET <path> with body, inside the module
                        (repeatable; default: / says hello)
  --idle-timeout <ms>   echo, line: close connections that send nothing this long (default: never)
  --max-connections <n> past n open connections, close new ones at once (default: no limit)
  --max-memory <bytes>  the most memory a module instance may grow to; past it, it traps
                        (default: 1073741824, 1 GiB)
  --cpu-budget <units>  --module: work a handler may do per event before it traps
                        (default: 10000000; 0: no limit)
  --reuse-port          set SO_REUSEPORT on the listening sockets
  --threads <n>         main–sub reactors: n sub-reactor threads sharing the ports (SO_REUSEPORT);
                        in-module protocols (echo, line, http routes, ws-echo); default: 1
  --accept <mode>       with --threads: reuseport (every thread listens) | handoff (the main
                        thread accepts and hands connections to the threads in turn)
  --workers <m>         http: run the request handler of --handler on m worker threads
  --handler <module>    http: a module whose default export is (req, res) => … (with --workers)
  --backend <host>      native (epoll addon) | uring (io_uring addon) | net (node:net) | auto;
                        default: native where it loads
  --record <file>       record every batch to a trace file (complete after Ctrl-C or SIGTERM)
  --flight-recorder <file>  keep the last 1000 batches in memory; write them to <file> if the module traps
  -h, --help            show this help

Examples:
  wasm-reactor serve --protocol echo --port 2000
  wasm-reactor serve --protocol line --port 2000 --ports 20
  wasm-reactor serve --protocol http --port 8080 --route /=hello --route /health=ok
  wasm-reactor serve --protocol ws --port 9001`;

/** The flag that sets each option, so that an option error names what the user typed. */
const FLAGS: Record<string, string> = {
  maxLineLength: "--max-line", routes: "--route", idleTimeout: "--idle-timeout", maxConnections: "--max-connections", maxMemory: "--max-memory", cpuBudget: "--cpu-budget",
  reusePort: "--reuse-port", threads: "--threads", accept: "--accept", workers: "--workers", handler: "--handler",
  backend: "--backend", record: "--record", module: "--module", flightRecorder: "--flight-recorder", port: "--port", ports: "--ports",
};

/** An option error from createServer, reworded with flag names: the user's mistake, so a usage error. */
function asUsageError(err: Error): UsageError {
  const message = err.message.replace(/^wasm-reactor: /, "")
    .replace(/^[a-zA-Z]+\b/, (word) => FLAGS[word] ?? word)
    .replace(/applies to protocol /, "applies to --protocol ");
  return new UsageError(message);
}

/** A whole-number flag's value; undefined when the flag is absent (the option's default applies). */
function wholeNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} expects a whole number, got "${value}"`);
  return Number(value);
}

function routesFromFlags(flags: string[] | undefined): Record<string, string> | undefined {
  if (flags === undefined) return undefined;
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
      module: { type: "string" },
      port: { type: "string" },
      ports: { type: "string" },
      host: { type: "string" },
      "max-line": { type: "string" },
      route: { type: "string", multiple: true },
      "reuse-port": { type: "boolean" },
      "idle-timeout": { type: "string" },
      "max-connections": { type: "string" },
      "max-memory": { type: "string" },
      "cpu-budget": { type: "string" },
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
    console.log(SERVE_USAGE);
    return;
  }
  // An unknown protocol or backend is refused by createServer, as any option error.
  const protocol = values.protocol ?? (values.module === undefined ? "echo" : "module");
  let server;
  try {
    server = createServer({
      backend: values.backend as Backend | undefined,
      protocol: protocol as Protocol,
      module: values.module,
      port: wholeNumber("port", values.port) ?? 2000,
      ports: wholeNumber("ports", values.ports),
      host: values.host,
      maxLineLength: wholeNumber("max-line", values["max-line"]),
      routes: routesFromFlags(values.route),
      reusePort: values["reuse-port"],
      idleTimeout: wholeNumber("idle-timeout", values["idle-timeout"]),
      maxConnections: wholeNumber("max-connections", values["max-connections"]),
      maxMemory: wholeNumber("max-memory", values["max-memory"]),
      cpuBudget: wholeNumber("cpu-budget", values["cpu-budget"]),
      threads: wholeNumber("threads", values.threads),
      workers: wholeNumber("workers", values.workers),
      accept: acceptMode(values.accept),
      handler: values.handler,
      record: values.record,
      flightRecorder: values["flight-recorder"] === undefined ? undefined : { path: values["flight-recorder"] },
    });
  } catch (err) {
    throw asUsageError(err as Error);
  }
  server.on("trap", (err, info) => {
    const saved = info.flightRecording ? ` (flight recording: ${info.flightRecording})` : "";
    console.error(`wasm-reactor: module trapped, restarted: ${err.message}${saved}`);
  });
  if (protocol === "ws") {
    // From the command line there is no application code: JS echoes, to show the JS path.
    server.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
  }
  await server.listen();
  const ports = server.addresses().map((a) => a.port);
  const consecutive = ports.every((p, i) => p === ports[0] + i);
  const threads = server.options.threads > 1 ? `, ${server.options.threads} threads` : "";
  const shown = ports.length === 1 ? `port ${ports[0]}`
    : consecutive ? `ports ${ports[0]}-${ports[ports.length - 1]}` : `ports ${ports.join(", ")}`;
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  // Before the line that says we serve: whoever reads it may stop us at once.
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const what = values.module === undefined ? protocol : `module ${values.module}`;
  console.log(`wasm-reactor: serving ${what} on ${server.address()!.address} ${shown}, ${server.backend} host${threads} (Ctrl-C to stop)`);
}

/** Where a usage error points: the help of the command being run. */
let helpHint = "wasm-reactor --help";

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (["serve", "simulate", "replay", "build"].includes(command)) helpHint = `wasm-reactor ${command} --help`;
  if (command === "help" && rest.length > 0) return main([rest[0], "--help"]);
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
  if (command === "build") {
    process.exitCode = runBuild(rest);
    return;
  }
  if (command === "simulate") {
    process.exitCode = runSimulate(rest);
    return;
  }
  if (command !== "serve") throw new UsageError(`unknown command "${command}" (expected serve, build, simulate or replay)`);
  await serve(rest);
}

main(process.argv.slice(2)).catch((err: Error & { code?: string }) => {
  // One line, no stack: usage mistakes and busy ports are the user's to fix, not bugs.
  // Usage errors exit 2 with a hint; runtime errors (a busy port, a missing file) exit 1.
  const usage = err instanceof UsageError || Boolean(err.code?.startsWith("ERR_PARSE_ARGS"));
  const message = err.message.replace(/^wasm-reactor: /, "");
  console.error(`wasm-reactor: ${message}${usage ? ` (see ${helpHint})` : ""}`);
  process.exit(usage ? 2 : 1);
});
