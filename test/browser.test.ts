// A real browser: headless Chromium loads a page the server itself serves (an HTTP
// route next to the WebSocket), opens a WebSocket with a subprotocol, exchanges a text
// and a binary message, and reports what it received over the same socket.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findChromium } from "./chromium.js";
import { createServer } from "../src/server.js";

const PAGE = `<!doctype html><title>wasm-reactor</title><script>
const ws = new WebSocket("ws://" + location.host + "/socket", ["chat", "superchat"]);
ws.binaryType = "arraybuffer";
const got = [];
ws.onopen = () => { ws.send("hello from the browser"); ws.send(new Uint8Array([1, 2, 3, 250]).buffer); };
ws.onmessage = (e) => {
  got.push(typeof e.data === "string" ? "text:" + e.data : "binary:" + Array.from(new Uint8Array(e.data)).join(","));
  if (got.length === 2) ws.send("report:" + JSON.stringify({ got, protocol: ws.protocol }));
};
</script>`;

test("headless Chromium exchanges text and binary messages and agrees on the subprotocol", async () => {
  const chromium = findChromium();
  const server = createServer({ protocol: "ws", host: "127.0.0.1", port: 0, path: "/socket", subprotocols: ["superchat", "chat"],
    routes: { "/": { headers: { "Content-Type": "text/html; charset=utf-8" }, body: PAGE } } });
  let serverProtocol = "";
  const report = new Promise<string>((resolve) => {
    server.on("connection", (ws) => {
      serverProtocol = ws.protocol;
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        const text = data.toString();
        if (!isBinary && text.startsWith("report:")) resolve(text.slice(7));
        else ws.send(isBinary ? data : `echo: ${text}`, { binary: isBinary });
      });
    });
  });
  await server.listen();
  const profile = mkdtempSync(join(tmpdir(), "wr-chromium-"));
  const browser = spawn(chromium, ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    `--user-data-dir=${profile}`, `http://127.0.0.1:${server.address()!.port}/`], { stdio: "ignore", detached: true });
  const exited = new Promise((r) => browser.once("exit", r));
  try {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no report from the browser in 60 s")), 60_000).unref());
    const got = JSON.parse(await Promise.race([report, timeout]));
    assert.equal(got.got, ["text:echo: hello from the browser", "binary:1,2,3,250"]);
    assert.is(got.protocol, "chat"); // the browser's first offer that the server speaks
    assert.is(serverProtocol, "chat");
  } finally {
    process.kill(-browser.pid!, "SIGKILL"); // the whole group: Chromium runs several processes
    await exited;
    await server.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
});

test.run();
