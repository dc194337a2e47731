// The llhttp request corpus (test/corpus/llhttp-requests.json, imported by
// scripts/import-llhttp-corpus.mjs): each case's bytes, sent to our HTTP server over a
// real socket or a client of the simulator, and what came back, judged against what
// llhttp's strict mode makes of the same bytes.
import { readFileSync } from "node:fs";
import net from "node:net";
import type { VirtualNetwork } from "../src/testing.js";

export interface CorpusCase {
  file: string;
  name: string;
  input: string;
  complete: number;
  error?: { code: number; reason: string };
}

export const LLHTTP_CASES: CorpusCase[] = JSON.parse(readFileSync(new URL("./corpus/llhttp-requests.json", import.meta.url), "utf8")).cases;

/**
 * The case's bytes with a Host field in every HTTP/1.1 head that has none: llhttp does
 * not require one, RFC 9112 §3.2 does (and so do we, with a 400), which is not what the
 * corpus is about.
 */
export function withHost(input: Buffer): Buffer {
  const text = input.toString("latin1");
  let out = "";
  let at = 0;
  for (const m of text.matchAll(/[!-~]+ [^ \r\n]+ HTTP\/1\.1\r\n/g)) {
    const start = m.index!;
    if (start > 0 && text[start - 1] !== "\n") continue; // not at a line's start
    const headEnd = text.indexOf("\r\n\r\n", start);
    const head = text.slice(start, headEnd < 0 ? undefined : headEnd);
    if (/\r\nhost:/i.test(head)) continue;
    const after = start + m[0].length;
    out += text.slice(at, after) + "Host: corpus\r\n";
    at = after;
  }
  return Buffer.from(out + text.slice(at), "latin1");
}

export interface Outcome {
  statuses: number[];
  closed: boolean;
}

/** How one case's bytes reach the server, on a new connection, and what comes back. */
export type Exchange = (bytes: Buffer) => Outcome | Promise<Outcome>;

/** How long a server that neither answers nor closes is listened to. */
const QUIET_MS = 150;

/** The final statuses in what came back (a 100 Continue is not an answer). */
function outcome(got: string, closed: boolean): Outcome {
  const statuses = [...got.matchAll(/HTTP\/1\.[01] (\d{3}) [^\r\n]*\r\n/g)].map((m) => Number(m[1])).filter((s) => s !== 100);
  return { statuses, closed };
}

/** Sends the bytes and listens until the server closes or is quiet for `quietMs`. */
export function exchange(port: number, bytes: Buffer, quietMs = QUIET_MS): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let got = "";
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome(got, closed));
    };
    const quiet = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), quietMs);
    };
    socket.on("connect", () => {
      socket.write(bytes);
      quiet();
    });
    socket.on("data", (d) => {
      got += d.toString("latin1");
      quiet();
    });
    socket.on("close", () => finish(true));
    socket.on("error", (err: NodeJS.ErrnoException) => (err.code === "ECONNRESET" ? finish(true) : reject(err)));
  });
}

/**
 * The same over a new client of the simulator. Without real time, "quiet" is the network
 * run until nothing more happens, and then the quiet period passed on the virtual clock,
 * so that a server timer shorter than it fires as it would on a socket.
 */
export function exchangeSimulated(network: VirtualNetwork, bytes: Buffer): Outcome {
  const client = network.connect().write(bytes);
  network.advance(QUIET_MS);
  return outcome(client.received().toString("latin1"), client.closed);
}

/** llhttp's pauses (code 21, 22: CONNECT, Upgrade, PRI) end its parse without an error in the request. */
const PAUSE = /^Pause on /;
/** Our answer to a request that parsed: no route and no handler, so 404. */
const ANSWERED = 404;

/**
 * Where we knowingly part from llhttp, and why. The test checks these still differ, so
 * a change on either side shows.
 */
export const DEVIATIONS: Record<string, string> = {
  "HTTP protocol and ANNOUNCE method": "RFC 9110 §9.1: a method is any token; llhttp knows a fixed list (ANNOUNCE is RTSP's)",
  "Invalid method": "RFC 9110 §9.1: MKCOLA is a token, so a method; llhttp knows a fixed list",
  "SOURCE request with ICE": "ICE/1.0 is not HTTP: we answer 400, llhttp parses it for Icecast",
  "ANNOUNCE request with RTSP": "RTSP/1.0 is not HTTP: we answer 400",
  "No HTTP version": "HTTP/0.9 (a request line without a version) is not served: 400",
  "POST with `chunked` as last transfer-encoding": "RFC 9112 §6.1: a transfer coding we do not implement (deflate) is 501; llhttp does not decode, so it passes",
  "POST with `chunked` as last transfer-encoding (multiple headers)": "the same, with the codings in two fields",
};

export type Verdict = "agree" | "deviates" | "differs";

/**
 * Judges our outcome against llhttp's: a request llhttp completes is answered (404 here,
 * no route), one it refuses is refused (an error status and a close) — or, when llhttp
 * refuses before the head has ended, not answered yet; the bytes are then sent again with
 * the end of a head, which we must refuse.
 */
export async function judge(c: CorpusCase, send: Exchange): Promise<{ verdict: Verdict; detail: string }> {
  const bytes = withHost(Buffer.from(c.input, "base64"));
  let o = await send(bytes);
  const paused = c.error !== undefined && PAUSE.test(c.error.reason);
  // After a Connection: close request llhttp refuses what follows; a server answers it, closes and ignores the rest.
  const closesAfter = c.error !== undefined && /^Data after `Connection: close`/.test(c.error.reason);
  const refused = c.error !== undefined && !paused && !closesAfter;
  const answered = o.statuses.filter((s) => s === ANSWERED).length;
  const errors = o.statuses.filter((s) => s >= 400 && s !== ANSWERED);
  let agree: boolean;
  if (paused) {
    agree = answered >= c.complete; // what follows a pause (CONNECT, Upgrade, an HTTP/2 preface) is not HTTP/1.1
  } else if (!refused) {
    agree = errors.length === 0 && answered === c.complete && (!closesAfter || o.closed);
  } else if (errors.length > 0) {
    // Refused and closed; a 413 lingers, reading the rest of the body before it closes.
    agree = answered === c.complete && (o.closed || errors.includes(413));
  } else if (!o.closed && answered === c.complete) {
    // llhttp refused bytes we are still reading a head from: end the head; it must be refused then.
    o = await send(Buffer.concat([bytes, Buffer.from("\r\n\r\n")]));
    const then = o.statuses.filter((s) => s >= 400 && s !== ANSWERED);
    agree = then.length === 1 && (o.closed || then[0] === 413);
  } else {
    agree = false;
  }
  const detail = `llhttp: ${c.complete} complete${c.error ? `, then "${c.error.reason}"` : ""}; ours: [${o.statuses.join(", ")}]${o.closed ? " closed" : " open"}`;
  if (DEVIATIONS[c.name] !== undefined) return { verdict: agree ? "agree" : "deviates", detail };
  return { verdict: agree ? "agree" : "differs", detail };
}

/**
 * Every case judged, over `send`: what is wrong, in words. A case must agree with
 * llhttp, and one of the DEVIATIONS must still deviate (so a change on either side shows).
 */
export async function disagreements(send: Exchange): Promise<string[]> {
  const wrong: string[] = [];
  for (const c of LLHTTP_CASES) {
    const { verdict, detail } = await judge(c, send);
    const deviation = DEVIATIONS[c.name];
    if (deviation !== undefined && verdict !== "deviates") wrong.push(`${c.file} "${c.name}" no longer deviates (${deviation}): ${detail}`);
    if (deviation === undefined && verdict !== "agree") wrong.push(`${c.file} "${c.name}": ${detail}`);
  }
  return wrong;
}
