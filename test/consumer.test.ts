// `npm install wasm-reactor` in someone else's project: the tarball installs with no
// compiler, stays small, works from CommonJS and ESM and from the command line, on every
// protocol; without a prebuilt binary it compiles where it can and falls back to the
// node:net host where it cannot, and the install never fails.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { once } from "node:events";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import WebSocket from "ws";
import { PROTOCOLS } from "../host/module.js";
import { connect, echoRoundTrip, HOST, receive } from "./helpers.js";
import { cleanup, folderBytes, noCompilerPath, npm, npmInstall, pack, project, repoRoot, runNode, userEnv, withoutPrebuilds, type NpmRun } from "./consumer.js";
import { terminate, withServing } from "./processes.js";
import { readmeBlocks, readmeCommands } from "./readme-samples.js";

const MB = 1024 * 1024;
const version = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")).version as string;
const tarball = pack();
const app = project("app");
let installed: NpmRun | undefined;

test.after(cleanup);

test("the tarball ships the built module, the declarations and a prebuilt linux-x64 addon, and no build inputs", () => {
  const files = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")).files as string[];
  assert.ok(files.includes("prebuilds/"), "prebuilds/ is in files");
  const size = statSync(tarball).size;
  console.log(`tarball: ${(size / 1024).toFixed(1)} kB`);
  assert.ok(size < 2 * MB, `tarball is ${size} bytes`);
});

test("installs from the tarball with no compiler on PATH, without AssemblyScript, TypeScript or node-gyp, in ≤ 15 MB", () => {
  installed = npmInstall(app, tarball);
  assert.is(installed.status, 0, installed.output);
  console.log(`install with the prebuilt binary: ${installed.seconds.toFixed(1)} s`);
  const modules = path.join(app, "node_modules");
  const pkg = path.join(modules, "wasm-reactor");
  for (const protocol of PROTOCOLS) assert.ok(existsSync(path.join(pkg, "dist", `${protocol}.wasm`)), `the ${protocol} module is shipped built`);
  assert.ok(existsSync(path.join(pkg, "dist", "src", "index.d.ts")), "declarations are shipped");
  assert.not.ok(existsSync(path.join(pkg, "build")), "nothing was compiled at install");
  for (const tool of ["assemblyscript", "typescript", "node-gyp", "prebuildify", "binaryen"]) {
    assert.not.ok(existsSync(path.join(modules, tool)), `${tool} is not installed for the user`);
  }
  const bytes = folderBytes(modules);
  console.log(`consumer node_modules: ${(bytes / MB).toFixed(2)} MB`);
  assert.ok(bytes <= 15 * MB, `node_modules is ${(bytes / MB).toFixed(1)} MB`);
  assert.not.match(installed.output, "wasm-reactor: could not compile");
});

test("require() from CommonJS serves HTTP on the native host", () => {
  writeFileSync(path.join(app, "main.cjs"), `
const { createServer } = require("wasm-reactor");
(async () => {
  const server = await createServer({ protocol: "http", host: "${HOST}" }).listen();
  const res = await fetch("http://${HOST}:" + server.address().port + "/");
  console.log(server.backend, res.status, (await res.text()).trim());
  await server.close();
})();`);
  assert.is(runNode(app, ["main.cjs"]).stdout.trim(), "native 200 Hello from wasm-reactor");
});

test("import from ESM serves HTTP on the native host, and package.json is exported", () => {
  writeFileSync(path.join(app, "main.mjs"), `
import { createServer } from "wasm-reactor";
import { createRequire } from "node:module";
const server = await createServer({ protocol: "http", host: "${HOST}" }).listen();
const res = await fetch("http://${HOST}:" + server.address().port + "/");
console.log(server.backend, res.status, (await res.text()).trim(), createRequire(import.meta.url)("wasm-reactor/package.json").name);
await server.close();`);
  assert.is(runNode(app, ["main.mjs"]).stdout.trim(), "native 200 Hello from wasm-reactor wasm-reactor");
});

test("npx wasm-reactor --version prints the package's version", () => {
  const npx = path.join(noCompilerPath, "npx");
  const r = runNode(app, [npx, "--no-install", "wasm-reactor", "--version"]);
  assert.is(r.stdout.trim(), version);
});

/** One exchange per protocol, as a client of that protocol would make it. */
const EXCHANGES: Record<string, (port: number) => Promise<void>> = {
  echo: async (port) => {
    const socket = await connect(port);
    assert.is((await echoRoundTrip(socket, Buffer.from("ping"))).toString(), "ping");
    socket.destroy();
  },
  line: async (port) => {
    const socket = await connect(port);
    assert.is((await echoRoundTrip(socket, Buffer.from("a line\n"))).toString(), "a line\n");
    socket.destroy();
  },
  http: async (port) => {
    const res = await fetch(`http://${HOST}:${port}/`);
    assert.is(res.status, 200);
    assert.is(await res.text(), "Hello from wasm-reactor\n");
  },
  "ws-echo": (port) => wsRoundTrip(port),
  ws: (port) => wsRoundTrip(port),
};

async function wsRoundTrip(port: number): Promise<void> {
  const ws = new WebSocket(`ws://${HOST}:${port}/`);
  await once(ws, "open");
  const reply = once(ws, "message");
  ws.send("round trip");
  assert.is(String((await reply)[0]), "round trip");
  ws.terminate();
}

for (const [protocol, exchange] of Object.entries(EXCHANGES)) {
  test(`the installed CLI serves ${protocol} and answers a client`, () =>
    withServing(path.join(app, "node_modules", ".bin", "wasm-reactor"),
      ["serve", "--protocol", protocol, "--port", "0", "--host", HOST], async ({ line, port }) => {
        assert.match(line, "native host");
        await exchange(port);
      }, { cwd: app, env: userEnv(noCompilerPath) }));
}

test("npm rebuild with no compiler leaves the native host working", () => {
  const r = npm(app, ["rebuild", "wasm-reactor", "--build-from-source"]);
  assert.is(r.status, 0, r.output);
  assert.match(r.output, "could not compile the native addon");
  assert.is(runNode(app, ["main.mjs"]).stdout.trim().split(" ")[0], "native");
});

/** A program that uses the types as a strict user would, and the mistakes they must catch. */
const TYPED = `import { createServer, type IncomingRequest, type ServerResponse, type WebSocket } from "wasm-reactor";

const http = createServer({ protocol: "http" });
http.on("request", (req, res) => {
  const request: IncomingRequest = req;
  const response: ServerResponse = res;
  response.setHeader("Content-Type", "text/plain").end(request.url);
});
http.on("requestError", (err) => console.error(err.message));
const ws = createServer({ protocol: "ws" });
ws.on("connection", (socket, req) => {
  const typed: WebSocket = socket;
  typed.on("message", (data, isBinary) => socket.send(isBinary ? data : data.toString(), { binary: isBinary }));
  typed.on("close", (code, reason) => console.log(code.toFixed(0), reason.length, req.url));
});
// @ts-expect-error: a misspelt event name
http.on("requets", () => {});
// @ts-expect-error: a misspelt method
http.listne();
// @ts-expect-error: a message is a Buffer, not a number
ws.on("connection", (socket) => socket.on("message", (data: number) => data));
// @ts-expect-error: a misspelt option
createServer({ protocl: "http" });
// @ts-expect-error: no such protocol
createServer({ protocol: "smtp" });
`;

/** A CommonJS TypeScript file: require() of the package, typed. */
const TYPED_CJS = `import wasmReactor = require("wasm-reactor");
const server: wasmReactor.Server = wasmReactor.createServer((req, res) => res.end(req.method));
export = server;
`;

test("the README's TypeScript samples, a typed program and a CommonJS file compile under tsc --strict against the installed package", () => {
  const samples = path.join(app, "ts");
  mkdirSync(samples);
  const blocks = readmeBlocks(repoRoot, "ts");
  assert.ok(blocks.length >= 6, `found ${blocks.length} samples`);
  blocks.forEach((code, i) => writeFileSync(path.join(samples, `readme-${i + 1}.ts`), code));
  writeFileSync(path.join(samples, "typed.ts"), TYPED);
  writeFileSync(path.join(samples, "typed-require.cts"), TYPED_CJS);
  writeFileSync(path.join(samples, "tsconfig.json"), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022",
      skipLibCheck: false, types: ["node"], typeRoots: [path.join(repoRoot, "node_modules", "@types")] },
    include: ["*.ts", "*.cts"],
  }));
  const tsc = spawnSync(process.execPath, [path.join(repoRoot, "node_modules", "typescript", "bin", "tsc"), "-p", samples],
    { encoding: "utf8", timeout: 120_000 });
  assert.is(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`);
});

test("every wasm-reactor command in the README's shell samples runs from the installed package", async () => {
  const commands = readmeCommands(repoRoot);
  assert.ok(commands.length >= 8, `found ${commands.length} commands`);
  const bin = path.join(app, "node_modules", ".bin", "wasm-reactor");
  const options = { cwd: app, env: userEnv(noCompilerPath) };
  for (const args of commands) {
    if (args[0] === "serve") {
      // A fixed port may be taken here: an ephemeral one, on loopback; Ctrl-C ends it cleanly.
      const local = args.map((a, i) => args[i - 1] === "--port" ? "0" : a).concat(["--host", HOST]);
      await withServing(bin, local, async ({ child, line }) => {
        assert.match(line, "wasm-reactor: serving");
        const exited = terminate(child);
        assert.is(await exited, 0, args.join(" "));
      }, options);
      continue;
    }
    const r = spawnSync(bin, args, { ...options, encoding: "utf8", timeout: 120_000 });
    assert.is(r.status, 0, `wasm-reactor ${args.join(" ")}: ${r.stdout}${r.stderr}`);
  }
});

test("build without AssemblyScript in the project says what to install, in one line", () => {
  const r = spawnSync(path.join(app, "node_modules", ".bin", "wasm-reactor"), ["build", "handler.ts"],
    { cwd: app, env: userEnv(noCompilerPath), encoding: "utf8" });
  assert.is(r.status, 2);
  assert.match(r.stderr, "npm install --save-dev assemblyscript");
  assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
});

test("with AssemblyScript in the project, the guide's handlers build, serve --module runs the first, and its test sample passes", async () => {
  const ascVersion = JSON.parse(readFileSync(path.join(repoRoot, "node_modules", "assemblyscript", "package.json"), "utf8")).version;
  const asc = npmInstall(app, `assemblyscript@${ascVersion}`);
  assert.is(asc.status, 0, asc.output);
  // Every handler sample of the guide builds; the first is served below.
  const samples = readmeBlocks(repoRoot, "ts", "docs/HANDLERS.md");
  assert.ok(samples.length >= 2, `found ${samples.length} samples`);
  const bin = path.join(app, "node_modules", ".bin", "wasm-reactor");
  samples.forEach((code, i) => {
    const name = i === 0 ? "upper" : `sample-${i + 1}`;
    writeFileSync(path.join(app, `${name}.ts`), code);
    const build = spawnSync(bin, ["build", `${name}.ts`, "-o", `${name}.wasm`], { cwd: app, env: userEnv(noCompilerPath), encoding: "utf8" });
    assert.is(build.status, 0, `${name}: ${build.stdout}${build.stderr}`);
  });
  await withServing(bin, ["serve", "--module", "upper.wasm", "--port", "0", "--host", HOST], async ({ port }) => {
    const socket = await connect(port);
    assert.is((await receive(socket, 6)).toString(), "hello\n");
    assert.is((await echoRoundTrip(socket, Buffer.from("shout"))).toString(), "SHOUT");
    socket.destroy();
  }, { cwd: app, env: userEnv(noCompilerPath) });
  // The test kit, as the guide's tests use it (each sample throws on a wrong answer).
  readmeBlocks(repoRoot, "js", "docs/HANDLERS.md").forEach((code, i) => {
    writeFileSync(path.join(app, `kit-${i}.mjs`), code);
    runNode(app, [`kit-${i}.mjs`]);
  });
});

const bare = withoutPrebuilds(tarball);

test("with no prebuilt binary and no compiler, the install succeeds and the server runs on the node:net host", () => {
  const dir = project("no-toolchain");
  const r = npmInstall(dir, bare);
  assert.is(r.status, 0, r.output);
  assert.match(r.output, "wasm-reactor: could not compile the native addon");
  writeFileSync(path.join(dir, "main.mjs"), readFileSync(path.join(app, "main.mjs")));
  const { stdout, stderr } = runNode(dir, ["main.mjs"]);
  assert.is(stdout.trim(), "net 200 Hello from wasm-reactor wasm-reactor");
  assert.match(stderr, "native epoll host unavailable");
  assert.is(stderr.trim().split("\n").length, 1, stderr);
});

test("with no prebuilt binary and a compiler, the install compiles the addon and the native host serves", () => {
  const dir = project("from-source");
  const r = npmInstall(dir, bare, userEnv(process.env.PATH ?? ""));
  assert.is(r.status, 0, r.output);
  console.log(`install compiling the addon: ${r.seconds.toFixed(1)} s (with the prebuilt binary: ${installed?.seconds.toFixed(1)} s)`);
  assert.ok(existsSync(path.join(dir, "node_modules", "wasm-reactor", "build", "Release", "wasm_reactor.node")));
  writeFileSync(path.join(dir, "main.mjs"), readFileSync(path.join(app, "main.mjs")));
  assert.is(runNode(dir, ["main.mjs"]).stdout.trim(), "native 200 Hello from wasm-reactor wasm-reactor");
});

test.run();
