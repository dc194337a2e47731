// verifyClient (protocol "ws"), shaped like the ws package's: sync, callback and promise
// forms; refusals answered with their status, fields and message before any 101; input
// sent behind the upgrade waits for the verdict; a verifier that throws, never answers,
// or answers after the client left cannot hurt the server. The ws client and raw sockets,
// on both socket hosts.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import WebSocket from "ws";
import type { VerifyClient } from "../src/index.js";
import { BACKENDS, connect, receive, receiveAll, sleep, waitFor } from "./helpers.js";
import { open, withServer } from "./ws-clients.js";
import { clientFrame, serverFrame, SWITCHING, upgrade } from "./ws-scenarios.js";

/** What a refused ws client saw: the status, a field, and the body. */
function refusal(port: number, headers: Record<string, string> = {}): Promise<{ status: number; reason?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers });
    ws.on("open", () => reject(new Error("the upgrade was accepted")));
    ws.on("error", () => {});
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, reason: res.headers["x-reason"] as string | undefined, body }));
    });
  });
}

for (const backend of BACKENDS) {
  const test = suite(`verifyClient on the ${backend} host`);

  test("sync: a refusal is 401 before any 101; the verifier sees the headers, url and the client's address", async () => {
    const seen: string[] = [];
    const verifyClient: VerifyClient = ({ req, origin }) => {
      seen.push(`${req.url} ${req.socket?.remoteAddress} ${origin}`);
      return req.headers.authorization === "Bearer good";
    };
    await withServer({ backend, verifyClient }, (ws) => ws.on("message", (d: Buffer) => ws.send(`echo ${d}`)), async (port, server) => {
      const refused = await refusal(port, { Authorization: "Bearer bad", Origin: "https://example.com" });
      assert.is(refused.status, 401);
      assert.is(refused.body, "Unauthorized");
      assert.is(server.clients.size, 0);
      const ws = new WebSocket(`ws://127.0.0.1:${port}/room`, { headers: { Authorization: "Bearer good" } });
      await new Promise((r) => ws.once("open", r));
      const reply = new Promise<string>((r) => ws.once("message", (d) => r(String(d))));
      ws.send("hi");
      assert.is(await reply, "echo hi");
      assert.equal(seen, ["/ 127.0.0.1 https://example.com", "/room 127.0.0.1 undefined"]);
      ws.close();
    });
  });

  test("callback form: a later verdict; a refusal's code, message and fields reach the client, and the connection closes", async () => {
    const verifyClient: VerifyClient = (info, done) => {
      const token = info.req.headers["x-token"];
      setTimeout(() => (token === "ok" ? done(true) : done(false, 403, "no entry", { "X-Reason": `token ${token}` })), 30);
    };
    await withServer({ backend, verifyClient }, () => {}, async (port) => {
      const refused = await refusal(port, { "X-Token": "nope" });
      assert.equal(refused, { status: 403, reason: "token nope", body: "no entry" });
      const s = await connect(port);
      s.write(upgrade("X-Token: raw\r\n"));
      const answer = (await receiveAll(s, 5000)).toString("latin1");
      assert.match(answer, /^HTTP\/1\.1 403 /);
      assert.match(answer, /\r\nconnection: close\r\n/i);
      const ws = await open(port).catch((e: Error) => e);
      assert.instance(ws, Error, "no token: refused");
      const good = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { "X-Token": "ok" } });
      await new Promise((r) => good.once("open", r));
      good.close();
    });
  });

  test("promise form; frames sent right behind the upgrade wait for the verdict and arrive in order", async () => {
    const messages: string[] = [];
    const verifyClient: VerifyClient = async () => {
      await sleep(50);
      return true;
    };
    await withServer({ backend, verifyClient }, (ws) => ws.on("message", (d: Buffer) => {
      messages.push(String(d));
      ws.send(`got ${d}`);
    }), async (port) => {
      const s = await connect(port);
      s.write(Buffer.concat([Buffer.from(upgrade()), clientFrame(1, "first"), clientFrame(1, "second")]));
      const expected = Buffer.concat([Buffer.from(SWITCHING), serverFrame(1, "got first"), serverFrame(1, "got second")]);
      assert.ok((await receive(s, expected.length)).equals(expected));
      assert.equal(messages, ["first", "second"]);
      s.destroy();
    });
  });

  test("a verifier that throws or rejects refuses with 500 and reports it; the server goes on", async () => {
    const errors: string[] = [];
    let calls = 0;
    const verifyClient: VerifyClient = () => {
      calls++;
      if (calls === 1) throw new Error("verifier bug");
      if (calls === 2) return Promise.reject(new Error("verifier rejected"));
      return true;
    };
    await withServer({ backend, verifyClient }, () => {}, async (port, server) => {
      server.on("requestError", (err) => errors.push(err.message));
      assert.is((await refusal(port)).status, 500);
      assert.is((await refusal(port)).status, 500);
      assert.equal(errors, ["verifier bug", "verifier rejected"]);
      const ws = await open(port);
      ws.close();
    });
  });

  test("a callback-form verifier whose promise rejects (after or instead of done) refuses with 500; nothing is left unhandled", async () => {
    const errors: string[] = [];
    const verifyClient: VerifyClient = async (_info, done) => {
      await sleep(5);
      if (errors.length > 5) done(true);
      throw new Error("async verifier bug");
    };
    await withServer({ backend, verifyClient }, () => {}, async (port, server) => {
      server.on("requestError", (err) => errors.push(err.message));
      assert.is((await refusal(port)).status, 500);
      assert.equal(errors, ["async verifier bug"]);
    });
  });

  test("a client that leaves while it is verified, and a verifier that never answers (503 at answerTimeout)", async () => {
    const answers: ((ok: boolean) => void)[] = [];
    const verifyClient: VerifyClient = (_info, done) => void answers.push(done);
    await withServer({ backend, verifyClient, answerTimeout: 300 }, () => {}, async (port, server) => {
      const leaving = await connect(port);
      leaving.write(upgrade());
      await waitFor(() => answers.length === 1, 5000, "the first verification");
      leaving.destroy();
      await sleep(50);
      answers[0](true); // too late: nothing to accept
      const silent = await connect(port);
      silent.write(upgrade());
      const answer = (await receiveAll(silent, 5000)).toString("latin1");
      assert.match(answer, /^HTTP\/1\.1 503 /);
      assert.is(server.clients.size, 0);
      answers[1](true); // too late as well: answered 503 and closed
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
      await waitFor(() => answers.length === 3, 5000, "the third verification");
      answers[2](true);
      await new Promise((r) => ws.once("open", r));
      assert.is(server.clients.size, 1);
      ws.close();
    });
  });

  test.run();
}
