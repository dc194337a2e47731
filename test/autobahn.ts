// The Autobahn WebSocket testsuite's cases (crossbario/autobahn-testsuite at b8a5120,
// Apache-2.0: test/corpus/autobahn-LICENSE), ported by hand as data: what each case
// sends, what it expects back and how the connection must end. Then a runner that plays
// a case the way Autobahn's fuzzing client does, over a raw socket or a client of the
// simulator, and judges it the way Autobahn does. Left out: 9.x (performance) and
// 12.x/13.x (permessage-deflate, which we do not negotiate); see test/corpus/README.md.
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import { Random } from "../host/sim.js";
import type { VirtualNetwork } from "../src/testing.js";

const OP = { cont: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** A payload: a JS string stands for its UTF-8 bytes (as Autobahn's str literals in UTF-8 source do). */
type Bytes = string | Buffer;
const bytesOf = (b: Bytes) => (typeof b === "string" ? Buffer.from(b, "utf8") : b);
/** Raw bytes written like Python's "\xce\xba" literals (each char one byte). */
const raw = (s: string) => Buffer.from(s, "latin1");

interface Frame {
  opcode: number;
  payload: Buffer;
  fin: boolean;
  rsv: number;
  /** Autobahn's payload_len: the payload repeated up to this many bytes. */
  repeatTo?: number;
  /** Autobahn's chopsize: the frame's bytes written in pieces of this size, a turn apart. */
  chop?: number;
  /** Autobahn's sync: the frame written on its own, a turn before what follows. */
  sync?: boolean;
}

/** What the fuzzing client does, in order. */
export type Step =
  | { frame: Frame }
  /** Autobahn's sendCloseFrame: a close with this code and reason; from then on the client is closing. */
  | { close: { code?: number; reason?: Buffer } }
  /** Autobahn's beginMessageFrame: the header of a text frame (FIN clear) whose payload follows in `data` steps. */
  | { head: number }
  | { data: Buffer }
  /**
   * Autobahn's continueLater: go on after this many seconds unless the connection is
   * gone; with a tag, only while it is still open, noting ("timeout", tag) first.
   */
  | { wait: number; tag?: string };

/** How a case ends if the server has not ended it: drop the TCP connection, or start a close handshake. */
type End = { kill: number } | { closeAfter: number };

/** What the client sees: whole messages, pings and pongs, and the tagged waits it lived through. */
export type Event =
  | { kind: "message"; data: Buffer; binary: boolean }
  | { kind: "ping" | "pong"; data: Buffer }
  | { kind: "timeout"; tag: string };

/** Autobahn's expectedClose. */
interface Closing {
  /** The client starts the close handshake (the server closes in reply); false: the server fails the connection. */
  byMe: boolean;
  /** Close codes the server may send (or send none). */
  codes: number[];
  /** Both close frames must have crossed. */
  clean: boolean;
  /** UTF-8 cases: the wrong side closing means the server never noticed, so the case fails. */
  wrongEndpointFatal?: boolean;
}

export interface AutobahnCase {
  id: string;
  description: string;
  steps: Step[];
  end: End;
  /** The events that make the case OK, and those that make it NON-STRICT (a SHOULD missed). */
  expect: { OK: Event[]; "NON-STRICT"?: Event[] };
  closing: Closing;
  /** The case sends its own close frames: none is sent when the expectations are met (7.x). */
  ownClose?: boolean;
  /** A close code outside `closing.codes` fails the case, not only its closing behaviour (7.x). */
  codeMatters?: boolean;
  /** The spec leaves the outcome open: recorded, never failed (7.1.6, 7.13.x). */
  informational?: boolean;
}

type FrameOptions = Partial<Pick<Frame, "fin" | "rsv" | "repeatTo" | "chop" | "sync">>;
const frame = (opcode: number, payload: Bytes = "", o: FrameOptions = {}): Step =>
  ({ frame: { ...o, opcode, payload: bytesOf(payload), fin: o.fin ?? true, rsv: o.rsv ?? 0 } });
const send = {
  text: (p: Bytes, o?: FrameOptions) => frame(OP.text, p, o),
  binary: (p: Bytes, o?: FrameOptions) => frame(OP.binary, p, o),
  cont: (p: Bytes, o?: FrameOptions) => frame(OP.cont, p, o),
  ping: (p: Bytes = "", o?: FrameOptions) => frame(OP.ping, p, o),
  pong: (p: Bytes = "", o?: FrameOptions) => frame(OP.pong, p, o),
  op: (opcode: number, p: Bytes = "", o?: FrameOptions) => frame(opcode, p, o),
  close: (code?: number, reason?: Bytes): Step => ({ close: { code, reason: reason === undefined ? undefined : bytesOf(reason) } }),
  /**
   * Autobahn's sendMessage with a fragment size: pieces of `size`, the last with FIN,
   * and that last one empty when `size` divides the payload (as Autobahn's loop does).
   */
  message(opcode: number, p: Bytes, size?: number): Step[] {
    const data = bytesOf(p);
    if (size === undefined || data.length <= size) return [frame(opcode, data)];
    const steps: Step[] = [];
    for (let i = 0; ; i += size) {
      const last = i + size > data.length;
      steps.push(frame(i === 0 ? opcode : OP.cont, data.subarray(i, Math.min(i + size, data.length)), { fin: last }));
      if (last) return steps;
    }
  },
};
const wait = (seconds: number, tag?: string): Step => ({ wait: seconds, tag });

const got = {
  message: (p: Bytes, binary = false): Event => ({ kind: "message", data: bytesOf(p), binary }),
  pong: (p: Bytes = ""): Event => ({ kind: "pong", data: bytesOf(p) }),
  timeout: (tag: string): Event => ({ kind: "timeout", tag }),
};

/** The client closes once it has what it expects, with 1000, and the server answers in kind. */
const NORMAL: Closing = { byMe: true, codes: [1000], clean: true };
/** The server fails the connection: a 1002 close, or just dropping the TCP connection. */
const FAIL: Closing = { byMe: false, codes: [1002], clean: false };
/** The server fails the connection for invalid UTF-8: 1007. */
const FAIL_UTF8: Closing = { byMe: false, codes: [1007], clean: false, wrongEndpointFatal: true };

const HELLO = "Hello, world!";
const BIN8 = raw("\x00\xff\xfe\xfd\xfc\xfb\x00\xff");
/** Autobahn's ways of putting frames on the wire: all at once, a frame a write, a byte a write. */
const CHOPS = [{ how: "in one chop", o: {} }, { how: "in frame-wise chops", o: { sync: true } }, { how: "in octet-wise chops", o: { chop: 1 } }];

function framing(): AutobahnCase[] {
  const lengths = [0, 125, 126, 127, 128, 65535, 65536];
  const cases: AutobahnCase[] = [];
  for (const [sub, opcode, fill, kind] of [[1, OP.text, "*", "text"], [2, OP.binary, "\xfe", "binary"]] as const) {
    const payload = (n: number) => raw(fill.repeat(n));
    const binary = opcode === OP.binary;
    lengths.forEach((n, i) => cases.push({
      id: `1.${sub}.${i + 1}`, description: `${kind} message of ${n} bytes`, steps: [send.op(opcode, payload(n))],
      end: { kill: n > 128 ? 10 : 1 }, expect: { OK: [got.message(payload(n), binary)] }, closing: NORMAL,
    }));
    cases.push({
      id: `1.${sub}.8`, description: `${kind} message of 65536 bytes, written in chops of 997`,
      steps: [send.op(opcode, payload(65536), { chop: 997 })], end: { kill: 10 },
      expect: { OK: [got.message(payload(65536), binary)] }, closing: NORMAL,
    });
  }
  return cases;
}

function pings(): AutobahnCase[] {
  const pong = (id: string, description: string, p: Bytes, o: FrameOptions = {}, closeAfter = 1): AutobahnCase =>
    ({ id, description, steps: [send.ping(p, o)], end: { closeAfter }, expect: { OK: [got.pong(p)] }, closing: NORMAL });
  const tenPings = (o: FrameOptions): Step[] => Array.from({ length: 10 }, (_, i) => send.ping(`payload-${i}`, o));
  const tenPongs = Array.from({ length: 10 }, (_, i) => got.pong(`payload-${i}`));
  return [
    pong("2.1", "ping without payload", ""),
    pong("2.2", "ping with a small text payload", HELLO),
    pong("2.3", "ping with a small binary (not UTF-8) payload", BIN8),
    pong("2.4", "ping with 125 bytes of binary payload", raw("\xfe".repeat(125))),
    { id: "2.5", description: "ping with 126 bytes: control frames carry at most 125, so the connection fails",
      steps: [send.ping(raw("\xfe".repeat(126)))], end: { kill: 1 }, expect: { OK: [] }, closing: FAIL },
    pong("2.6", "ping with 125 bytes, written a byte at a time", raw("\xfe".repeat(125)), { chop: 1 }, 2),
    { id: "2.7", description: "unsolicited pong without payload, then a close: nothing comes back but the close",
      steps: [send.pong(), send.close(1000)], end: { closeAfter: 1 }, expect: { OK: [] }, closing: NORMAL },
    { id: "2.8", description: "unsolicited pong with payload, then a close: nothing comes back but the close",
      steps: [send.pong("unsolicited pong payload"), send.close(1000)], end: { closeAfter: 1 }, expect: { OK: [] }, closing: NORMAL },
    { id: "2.9", description: "unsolicited pong, then a ping: only the ping is answered",
      steps: [send.pong("unsolicited pong payload"), send.ping("ping payload")], end: { closeAfter: 1 },
      expect: { OK: [got.pong("ping payload")] }, closing: NORMAL },
    { id: "2.10", description: "10 pings: a pong for each (not required by the spec, checked anyway)",
      steps: tenPings({}), end: { closeAfter: 3 }, expect: { OK: tenPongs }, closing: NORMAL },
    { id: "2.11", description: "10 pings written a byte at a time: a pong for each",
      steps: tenPings({ chop: 1 }), end: { closeAfter: 3 }, expect: { OK: tenPongs }, closing: NORMAL },
  ];
}

function reservedBits(): AutobahnCase[] {
  const fails = (id: string, description: string, steps: Step[]): AutobahnCase =>
    ({ id, description, steps, end: { kill: 1 }, expect: { OK: [] }, closing: FAIL });
  // A good message, the bad frame, a ping: the first echoed (or, non-strictly, not), no pong.
  const afterEcho = (id: string, rsv: number, { how, o }: (typeof CHOPS)[number]): AutobahnCase => ({
    id, description: `text, then text with RSV = ${rsv}, then a ping, ${how}: echo, then the connection fails; no pong`,
    steps: [send.text(HELLO, o), send.text(HELLO, { ...o, rsv }), send.ping("", o)], end: { kill: 1 },
    expect: { OK: [got.message(HELLO)], "NON-STRICT": [] }, closing: FAIL,
  });
  return [
    fails("3.1", "text with RSV = 1: no extension gives it a meaning, so the connection fails", [send.text(HELLO, { rsv: 1 })]),
    afterEcho("3.2", 2, CHOPS[0]),
    afterEcho("3.3", 3, CHOPS[1]),
    afterEcho("3.4", 4, CHOPS[2]),
    fails("3.5", "binary with RSV = 5", [send.binary(BIN8, { rsv: 5 })]),
    // Autobahn's description says a ping; what it sends is a binary frame.
    fails("3.6", "binary with RSV = 6", [send.binary(HELLO, { rsv: 6 })]),
    fails("3.7", "close with RSV = 7", [send.op(OP.close, "", { rsv: 7 })]),
  ];
}

function opcodes(): AutobahnCase[] {
  const cases: AutobahnCase[] = [];
  // Per reserved opcode: alone without payload, alone with one, then three between a good message and a ping.
  for (const [sub, first, kind] of [[1, 3, "non-control"], [2, 11, "control"]] as const) {
    cases.push({ id: `4.${sub}.1`, description: `reserved ${kind} opcode ${first}: the connection fails`,
      steps: [send.op(first)], end: { kill: 1 }, expect: { OK: [] }, closing: FAIL });
    cases.push({ id: `4.${sub}.2`, description: `reserved ${kind} opcode ${first + 1} with a payload: the connection fails`,
      steps: [send.op(first + 1, "reserved opcode payload")], end: { kill: 1 }, expect: { OK: [] }, closing: FAIL });
    for (let i = 3; i <= 5; i++) {
      const opcode = first + i - 1;
      const o = i === 5 ? { chop: 1 } : {};
      cases.push({
        id: `4.${sub}.${i}`,
        description: `text, then reserved ${kind} opcode ${opcode}${i > 3 ? " with a payload" : ""}, then a ping`
          + `${i === 5 ? ", a byte at a time" : ""}: echo, then the connection fails; no pong`,
        steps: [send.text(HELLO, o), send.op(opcode, i > 3 ? HELLO : "", o), send.ping("", o)], end: { kill: 1 },
        expect: { OK: [got.message(HELLO)], "NON-STRICT": [] }, closing: FAIL,
      });
    }
  }
  return cases;
}

function fragmentation(): AutobahnCase[] {
  const fails = (id: string, description: string, steps: Step[]): AutobahnCase =>
    ({ id, description, steps, end: { kill: 1 }, expect: { OK: [] }, closing: FAIL });
  const cases: AutobahnCase[] = [
    fails("5.1", "ping in 2 fragments: control frames must not be fragmented", [send.ping("fragment1", { fin: false }), send.cont("fragment2")]),
    fails("5.2", "pong in 2 fragments: control frames must not be fragmented", [send.pong("fragment1", { fin: false }), send.cont("fragment2")]),
  ];
  CHOPS.forEach(({ how, o }, i) => cases.push({
    id: `5.${3 + i}`, description: `text in 2 fragments, ${how}: echoed whole`,
    steps: [send.text("fragment1", { ...o, fin: false }), send.cont("fragment2", o)], end: { closeAfter: 1 },
    expect: { OK: [got.message("fragment1fragment2")] }, closing: NORMAL,
  }));
  CHOPS.forEach(({ how, o }, i) => cases.push({
    id: `5.${6 + i}`, description: `text in 2 fragments with a ping between, ${how}: the pong, then the message`,
    steps: [send.text("fragment1", { ...o, fin: false }), send.ping("ping payload", o), send.cont("fragment2", o)],
    end: { closeAfter: 1 }, expect: { OK: [got.pong("ping payload"), got.message("fragment1fragment2")] }, closing: NORMAL,
  }));
  for (const [first, fin] of [[9, true], [12, false]] as const) {
    CHOPS.forEach(({ how, o }, i) => cases.push(fails(`5.${first + i}`,
      `continuation with FIN = ${fin} and nothing to continue, then text, ${how}: the connection fails`,
      [send.cont("non-continuation payload", { ...o, fin }), send.text(HELLO, o)])));
  }
  cases.push({
    id: "5.15",
    description: "text in 2 fragments, then a continuation with FIN = false and nothing to continue, then text: echo of the first, then the connection fails",
    steps: [send.text("fragment1", { fin: false }), send.cont("fragment2"), send.cont("fragment3", { fin: false }), send.text("fragment4")],
    end: { kill: 1 }, expect: { OK: [got.message("fragment1fragment2")], "NON-STRICT": [] }, closing: FAIL,
  });
  for (const [id, fin] of [["5.16", false], ["5.17", true]] as const) {
    const round = [send.cont("fragment1", { fin }), send.text("fragment2", { fin: false }), send.cont("fragment3")];
    cases.push(fails(id, `twice: a continuation with FIN = ${fin} and nothing to continue, then text in 2 fragments: the connection fails`,
      [...round, ...round]));
  }
  cases.push(fails("5.18", "text in 2 fragments, both with the text opcode: the connection fails",
    [send.text("fragment1", { fin: false }), send.text("fragment2")]));
  // A pong must not wait for the message around it: the first ping comes while the client waits mid-message.
  for (const [id, o, how] of [["5.19", {}, ""], ["5.20", { sync: true }, ", frame-wise chops"]] as const) {
    cases.push({
      id, description: `text in 5 fragments, a ping after the 2nd, a wait, another ping before the 5th${how}: both pongs, then the message`,
      steps: [
        send.text("fragment1", { ...o, fin: false }), send.cont("fragment2", { ...o, fin: false }), send.ping("pongme 1!", o), wait(1),
        send.cont("fragment3", { ...o, fin: false }), send.cont("fragment4", { ...o, fin: false }), send.ping("pongme 2!", o), send.cont("fragment5", o),
      ],
      end: { closeAfter: 1 },
      expect: { OK: [got.pong("pongme 1!"), got.pong("pongme 2!"), got.message("fragment1fragment2fragment3fragment4fragment5")] },
      closing: NORMAL,
    });
  }
  return cases;
}

/** κόσμε: the valid text that UTF-8 cases build on. */
const KOSME = raw("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5");
/** The same with a surrogate (U+D800) in the middle: invalid at its second byte, \xa0. */
const KOSME_SURROGATE = Buffer.concat([KOSME, raw("\xed\xa0\x80edited")]);
const MIXED = "Hello-µ@ßöäüàá-UTF-8!!";

/** Markus Kuhn's UTF-8 decoder stress test as Autobahn's case6_x_x picks from it: groups 6.5 to 6.23 of [valid, bytes]. */
function utf8Table(): [string, [boolean, Buffer][]][] {
  const range = (from: number, to: number, between = "") => raw(Array.from({ length: to - from }, (_, i) => String.fromCharCode(from + i) + between).join(""));
  const truncated = ["\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
    "\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"];
  const valid = (...s: string[]) => s.map((x): [boolean, Buffer] => [true, raw(x)]);
  const invalid = (...s: (string | Buffer)[]) => s.map((x): [boolean, Buffer] => [false, typeof x === "string" ? raw(x) : x]);
  // U+xFFFE and U+xFFFF of every plane: not characters, but valid UTF-8 (RFC 3629).
  const nonCharacters: string[] = ["\xef\xbf\xbe", "\xef\xbf\xbf"];
  for (const lead of ["\xf0", "\xf1", "\xf2", "\xf3", "\xf4"]) {
    for (const second of ["\x8f", "\x9f", "\xaf", "\xbf"]) {
      if (lead === "\xf4" && second !== "\x8f") continue; // past U+10FFFF
      for (const last of ["\xbe", "\xbf"]) if (!(lead === "\xf0" && second === "\x8f")) nonCharacters.push(lead + second + "\xbf" + last);
    }
  }
  // A prefix of κόσμε is valid where it ends on a code point: after 2, 5, 7, 9 or 11 bytes.
  const prefixes = Array.from({ length: KOSME.length }, (_, i): [boolean, Buffer] => [[2, 5, 7, 9, 11].includes(i + 1), KOSME.subarray(0, i + 1)]);
  return [
    ["Some valid UTF-8 sequences", [...valid("hello\x24world", "hello\xc2\xa2world", "hello\xe2\x82\xacworld", "hello\xf0\xa4\xad\xa2world"), [true, KOSME]]],
    ["All prefixes of a valid UTF-8 string that contains multi-byte code points", prefixes],
    ["First possible sequence of a certain length", valid("\x00", "\xc2\x80", "\xe0\xa0\x80", "\xf0\x90\x80\x80")],
    ["First possible sequence length 5/6 (invalid codepoints)", invalid("\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80")],
    ["Last possible sequence of a certain length", valid("\x7f", "\xdf\xbf", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf")],
    ["Last possible sequence length 4/5/6 (invalid codepoints)", invalid("\xf7\xbf\xbf\xbf", "\xfb\xbf\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf\xbf")],
    ["Other boundary conditions", [...valid("\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf"), ...invalid("\xf4\x90\x80\x80")]],
    ["Unexpected continuation bytes", invalid("\x80", "\xbf", "\x80\xbf", "\x80\xbf\x80", "\x80\xbf\x80\xbf", "\x80\xbf\x80\xbf\x80",
      "\x80\xbf\x80\xbf\x80\xbf", range(0x80, 0xbf))],
    ["Lonely start characters", invalid(range(0xc0, 0xdf, " "), range(0xe0, 0xef, " "), range(0xf0, 0xf7, " "), range(0xf8, 0xfb, " "),
      range(0xfc, 0xfd, " "))],
    ["Sequences with last continuation byte missing", invalid(...truncated)],
    ["Concatenation of incomplete sequences", invalid(truncated.join(""))],
    ["Impossible bytes", invalid("\xfe", "\xff", "\xfe\xfe\xff\xff")],
    ["Examples of an overlong ASCII character", invalid("\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xf8\x80\x80\x80\xaf", "\xfc\x80\x80\x80\x80\xaf")],
    ["Maximum overlong sequences", invalid("\xc1\xbf", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", "\xf8\x87\xbf\xbf\xbf", "\xfc\x83\xbf\xbf\xbf\xbf")],
    ["Overlong representation of the NUL character", invalid("\xc0\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80", "\xf8\x80\x80\x80\x80",
      "\xfc\x80\x80\x80\x80\x80")],
    ["Single UTF-16 surrogates", invalid("\xed\xa0\x80", "\xed\xad\xbf", "\xed\xae\x80", "\xed\xaf\xbf", "\xed\xb0\x80", "\xed\xbe\x80", "\xed\xbf\xbf")],
    ["Paired UTF-16 surrogates", invalid("\xed\xa0\x80\xed\xb0\x80", "\xed\xa0\x80\xed\xbf\xbf", "\xed\xad\xbf\xed\xb0\x80", "\xed\xad\xbf\xed\xbf\xbf",
      "\xed\xae\x80\xed\xb0\x80", "\xed\xae\x80\xed\xbf\xbf", "\xed\xaf\xbf\xed\xb0\x80", "\xed\xaf\xbf\xed\xbf\xbf")],
    ["Non-character code points (valid UTF-8)", valid(...nonCharacters)],
    ["Unicode specials (i.e. replacement char)", valid("\xef\xbf\xb9", "\xef\xbf\xba", "\xef\xbf\xbb", "\xef\xbf\xbc", "\xef\xbf\xbd",
      "\xef\xbf\xbe", "\xef\xbf\xbf")],
  ];
}

function utf8(): AutobahnCase[] {
  const echo = (id: string, description: string, steps: Step[], payload: Bytes): AutobahnCase =>
    ({ id, description, steps, end: { closeAfter: 1 }, expect: { OK: [got.message(payload)] }, closing: NORMAL });
  const invalid = (id: string, description: string, steps: Step[]): AutobahnCase =>
    ({ id, description, steps, end: { kill: 1 }, expect: { OK: [] }, closing: FAIL_UTF8 });
  // 6.4: valid start, wait, the part that makes it invalid, wait, the rest. OK: failed on the
  // invalid part (one wait lived through); NON-STRICT: failed only at the end of the message.
  const failFast = (id: string, description: string, parts: Buffer[], oneFrame: boolean): AutobahnCase => ({
    id, description,
    steps: oneFrame
      ? [{ head: parts[0].length + parts[1].length + parts[2].length }, { data: parts[0] }, wait(1, "A"), { data: parts[1] }, wait(1, "B"),
        { data: parts[2] }, send.cont("")]
      : [send.text(parts[0], { fin: false }), wait(1, "A"), send.cont(parts[1], { fin: false }), wait(1, "B"), send.cont(parts[2])],
    end: { kill: 1 }, expect: { OK: [got.timeout("A")], "NON-STRICT": [got.timeout("A"), got.timeout("B")] }, closing: FAIL_UTF8,
  });
  const outOfRange = [KOSME, raw("\xf4\x90\x80\x80"), raw("edited")]; // U+110000 in the middle
  const atTheByte = [Buffer.concat([KOSME, raw("\xf4")]), raw("\x90"), raw("\x80\x80edited")];
  const cases: AutobahnCase[] = [
    echo("6.1.1", "text of length 0", [send.text("")], ""),
    echo("6.1.2", "text in 3 empty fragments", [send.text("", { fin: false }), send.cont("", { fin: false }), send.cont("")], ""),
    echo("6.1.3", "text in 3 fragments, only the middle one not empty",
      [send.text("", { fin: false }), send.cont("middle frame payload", { fin: false }), send.cont("")], "middle frame payload"),
    echo("6.2.1", "valid UTF-8 text in one frame", send.message(OP.text, MIXED), MIXED),
    echo("6.2.2", "valid UTF-8 text in 2 fragments split on a code point", [send.text("Hello-µ@ßöä", { fin: false }), send.cont("üàá-UTF-8!!")], MIXED),
    echo("6.2.3", "valid UTF-8 text in 1-byte fragments, most ending inside a code point", send.message(OP.text, MIXED, 1), MIXED),
    echo("6.2.4", "κόσμε in 1-byte fragments, most ending inside a code point", send.message(OP.text, KOSME, 1), KOSME),
    invalid("6.3.1", "invalid UTF-8 text (a surrogate) in one frame: the connection fails with 1007", send.message(OP.text, KOSME_SURROGATE)),
    invalid("6.3.2", "invalid UTF-8 text (a surrogate) in 1-byte fragments: the connection fails with 1007", send.message(OP.text, KOSME_SURROGATE, 1)),
    failFast("6.4.1", "text in 3 frames, the 2nd making it invalid (U+110000): fail on the 2nd, not at the end", outOfRange, false),
    failFast("6.4.2", "as 6.4.1, the 2nd frame only the byte that makes it invalid", atTheByte, false),
    failFast("6.4.3", "as 6.4.1, in 3 chops of one frame: fail on the 2nd chop", outOfRange, true),
    failFast("6.4.4", "as 6.4.2, in 3 chops of one frame: fail on the 2nd chop", atTheByte, true),
  ];
  utf8Table().forEach(([group, payloads], g) => payloads.forEach(([valid, payload], i) => cases.push({
    id: `6.${5 + g}.${i + 1}`, description: `${group}: ${valid ? "valid" : "invalid"} ${payload.toString("hex")} in one frame`,
    steps: [send.text(payload)], end: { kill: 0.5 },
    expect: { OK: valid ? [got.message(payload)] : [] }, closing: valid ? NORMAL : FAIL_UTF8,
  })));
  return cases;
}

function closing(): AutobahnCase[] {
  const normal = (id: string, description: string, steps: Step[], expect: Event[] = []): AutobahnCase =>
    ({ id, description, steps, end: { kill: 1 }, expect: { OK: expect }, closing: NORMAL, ownClose: true, codeMatters: true });
  const refused = (id: string, description: string, steps: Step[], codes = [1002]): AutobahnCase =>
    ({ id, description, steps, end: { kill: 1 }, expect: { OK: [] }, closing: { byMe: true, codes, clean: false }, ownClose: true, codeMatters: true });
  const cases: AutobahnCase[] = [
    { ...normal("7.1.1", "a message, then (once echoed) a close", [send.text("Hello World!")], [got.message("Hello World!")]), ownClose: false },
    normal("7.1.2", "two close frames: the second is ignored", [send.close(1000), send.op(OP.close)]),
    normal("7.1.3", "a ping after the close: no pong", [send.close(1000), send.ping()]),
    normal("7.1.4", "text after the close: ignored", [send.close(1000), send.text("Hello World!")]),
    normal("7.1.5", "a first fragment, the close, then the last fragment: no message",
      [send.text("fragment1", { fin: false }), send.close(1000), send.cont("fragment2")]),
    {
      id: "7.1.6", description: "a 256 KiB message, a small one, a close, a ping: whether the small one comes back is the implementation's choice",
      steps: [send.text("BAsd7&jh23", { repeatTo: 256 * 1024 }), send.text("Hello World!"), send.close(1000), send.ping()], end: { kill: 1 },
      expect: { OK: [got.message("Hello World!")], "NON-STRICT": [] }, closing: NORMAL, ownClose: true, informational: true,
    },
    normal("7.3.1", "close with an empty payload (no code, no reason)", [send.close()]),
    refused("7.3.2", "close with a 1-byte payload: the connection fails", [send.close(undefined, "a")]),
    normal("7.3.3", "close with a code and no reason", [send.close(1000)]),
    normal("7.3.4", "close with a code and a reason", [send.close(1000, "Hello World!")]),
    normal("7.3.5", "close with a reason of 123 bytes, the most that fits", [send.close(1000, "*".repeat(123))]),
    refused("7.3.6", "close with a reason of 124 bytes (126 in all, over a control frame's 125): the connection fails",
      [send.close(1000, "*".repeat(124))]),
    refused("7.5.1", "close with a reason that is not UTF-8: the connection fails (1002 or 1007)",
      [send.close(1000, KOSME_SURROGATE)], [1002, 1007]),
  ];
  [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999].forEach((code, i) => cases.push({
    ...normal(`7.7.${i + 1}`, `close with the valid code ${code}: answered with 1000 or ${code}`, [send.close(code)]),
    closing: { byMe: true, codes: [1000, code], clean: true },
  }));
  [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999].forEach((code, i) =>
    cases.push(refused(`7.9.${i + 1}`, `close with the invalid code ${code}: the connection fails with 1002`, [send.close(code)])));
  [5000, 65535].forEach((code, i) => cases.push({
    id: `7.13.${i + 1}`, description: `close with code ${code}: the spec leaves the answer open`, steps: [send.close(code)], end: { kill: 1 },
    expect: { OK: [] }, closing: { byMe: true, codes: [1000, code, 1002], clean: false }, ownClose: true, informational: true,
  }));
  return cases;
}

function misc(): AutobahnCase[] {
  // Autobahn also counts the frames it sent (50 continuations and 1 text): true of what send.message writes.
  const payload = "*".repeat(65536);
  return [{ id: "10.1.1", description: "text of 65536 bytes in fragments of 1300", steps: send.message(OP.text, payload, 1300), end: { kill: 10 },
    expect: { OK: [got.message(payload)] }, closing: NORMAL }];
}

export const AUTOBAHN_CASES: AutobahnCase[] = [
  ...framing(), ...pings(), ...reservedBits(), ...opcodes(), ...fragmentation(), ...utf8(), ...closing(), ...misc(),
];

/**
 * Where our server knowingly parts from Autobahn's verdict, and why (case id → reason).
 * The test checks these still fail, so a fix shows.
 */
export const DEVIATIONS: Record<string, string> = {};

// ---- the runner ----

/** A kill or close deadline: Autobahn's seconds, capped at 2 s (it only runs out on a server that misbehaves). */
const deadline = (seconds: number) => Math.min(seconds, 2) * 1000;
/**
 * A wait between sends: half Autobahn's. A loopback server fails fast in well under a
 * millisecond, and halving keeps the cases that wait (5.19, 5.20, 6.4.x) to a few seconds in all.
 */
const pause = (seconds: number) => seconds * 500;
/** Longer than any case's own waits and deadlines: a bound for a server that never answers at all. */
const CASE_LIMIT_MS = 5000;
/** Autobahn writes chops and sync frames a reactor turn apart: here a millisecond, so they tend to arrive in separate reads. */
const TURN_MS = 1;
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** What happened on the connection, as Autobahn's client records it. */
export interface Run {
  /** The opening handshake completed. */
  opened: boolean;
  received: Event[];
  /** The client sent the first close frame. */
  closedByMe: boolean;
  /** A close frame came from the server (its reply or its own). */
  wasClean: boolean;
  /** The client dropped the TCP connection (a kill, or the server broke the protocol). */
  droppedByMe: boolean;
  /** The code in the server's close frame, null if it sent none or an empty one. */
  remoteCode: number | null;
  /** Why the client gave up: a failed handshake or a server frame that breaks RFC 6455. */
  trouble?: string;
  /** The frames sent, unmasked, for the report. */
  sent: string[];
}

/** Valid close codes a server may send (RFC 6455 §7.4, and 1012-1014 registered since). */
const validCode = (code: number) => (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
const utf8Valid = (b: Buffer) => {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
};
const OP_NAMES: Record<number, string> = { 0: "cont", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong" };
const show = (b: Buffer, max = 32) => (b.length > max ? `${b.subarray(0, max).toString("hex")}… (${b.length} bytes)` : b.toString("hex"));

/** A client frame header: FIN, RSV and opcode, then the length in its shortest form and the mask bit. */
function header(fin: boolean, rsv: number, opcode: number, length: number, mask: Buffer): Buffer {
  const b0 = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  if (length < 126) return Buffer.concat([Buffer.from([b0, 0x80 | length]), mask]);
  if (length < 65536) return Buffer.concat([Buffer.from([b0, 0x80 | 126, length >> 8, length & 0xff]), mask]);
  const h = Buffer.alloc(10);
  h[0] = b0;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(length), 2);
  return Buffer.concat([h, mask]);
}

const masked = (data: Buffer, mask: Buffer, offset = 0) => Buffer.from(data.map((x, i) => x ^ mask[(offset + i) % 4]));

type State = "connecting" | "open" | "closing" | "closed";

/** The connection a case is played over, and the clock its waits and deadlines run on. */
interface Wire {
  /** What the handshake's Host field names. */
  readonly authority: string;
  write(bytes: Buffer): void;
  /** Drops the connection: the fuzzer's closed() follows. */
  drop(): void;
  /** Bytes for the handshake's key and the frames' masks. */
  random(n: number): Buffer;
  sleep(ms: number): Promise<void>;
  /** Calls f after ms, unless the connection has closed by then. */
  after(ms: number, f: () => void): void;
}

/**
 * Plays one case against a WebSocket echo server: the client's side of Autobahn's fuzzing
 * run. The wire tells it of the connection (connected, receive, closed).
 */
class Fuzzer {
  readonly run: Run = { opened: false, received: [], closedByMe: false, wasClean: false, droppedByMe: false, remoteCode: null, sent: [] };
  private state: State = "connecting";
  private inbox = Buffer.alloc(0);
  /** No server frame is looked at after its close frame. */
  private closeSeen = false;
  private message: { opcode: number; parts: Buffer[] } | undefined;
  /** The frame begun by a `head` step: its mask and how much of its payload went out. */
  private streaming: { mask: Buffer; at: number } = { mask: Buffer.alloc(4), at: 0 };
  private readonly key: string;

  constructor(private readonly c: AutobahnCase, private readonly wire: Wire, private readonly done: (run: Run) => void) {
    this.key = wire.random(16).toString("base64");
    // However the case goes (a handshake never answered, too), the connection ends.
    wire.after(CASE_LIMIT_MS, () => this.drop("the case overran"));
  }

  connected(): void {
    this.wire.write(Buffer.from(`GET / HTTP/1.1\r\nHost: ${this.wire.authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
      + `Sec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
  }

  closed(): void {
    this.state = "closed";
    this.done(this.run);
  }

  receive(d: Buffer): void {
    this.inbox = Buffer.concat([this.inbox, d]);
    if (this.state === "connecting") {
      const end = this.inbox.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = this.inbox.subarray(0, end).toString("latin1");
      this.inbox = this.inbox.subarray(end + 4);
      const accept = createHash("sha1").update(this.key + GUID).digest("base64");
      if (!/^HTTP\/1\.1 101 /.test(head)) return this.drop(`handshake answered ${head.split("\r\n")[0]}`);
      if (!new RegExp(`\r\nSec-WebSocket-Accept: *${accept.replace(/[+/]/g, "\\$&")} *(\r\n|$)`, "i").test(head)) {
        return this.drop("handshake without the right Sec-WebSocket-Accept");
      }
      this.state = "open";
      this.run.opened = true;
      void this.play();
    }
    this.parse();
  }

  /** The server's frames: whole messages, pings, pongs and the close, each checked as Autobahn's client does. */
  private parse(): void {
    while (!this.closeSeen && this.state !== "closed" && this.inbox.length >= 2) {
      const b = this.inbox;
      const fin = (b[0] & 0x80) !== 0;
      const opcode = b[0] & 0x0f;
      if (b[0] & 0x70) return this.drop(`server frame with RSV bits ${(b[0] >> 4) & 7}`);
      if (b[1] & 0x80) return this.drop("masked server frame");
      let length = b[1] & 0x7f;
      let at = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      if (b.length < at + length) return;
      const payload = Buffer.from(b.subarray(at, at + length));
      this.inbox = b.subarray(at + length);
      this.frame(fin, opcode, payload);
    }
  }

  private frame(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode >= OP.close) {
      if (!fin || payload.length > 125) return this.drop(`server control frame ${opcode} fragmented or over 125 bytes`);
      if (opcode === OP.close) return this.closeFrame(payload);
      if (opcode === OP.ping) {
        if (this.state === "open") this.write(OP.pong, payload);
        return this.event({ kind: "ping", data: payload });
      }
      if (opcode === OP.pong) return this.event({ kind: "pong", data: payload });
      return this.drop(`server frame with reserved opcode ${opcode}`);
    }
    if (opcode > OP.binary) return this.drop(`server frame with reserved opcode ${opcode}`);
    if ((opcode === OP.cont) !== (this.message !== undefined)) return this.drop("server continuation out of place");
    this.message ??= { opcode, parts: [] };
    this.message.parts.push(payload);
    if (!fin) return;
    const data = Buffer.concat(this.message.parts);
    const binary = this.message.opcode === OP.binary;
    this.message = undefined;
    if (!binary && !utf8Valid(data)) return this.drop("server text message that is not UTF-8");
    this.event({ kind: "message", data, binary });
  }

  private closeFrame(payload: Buffer): void {
    this.closeSeen = true;
    if (payload.length === 1) return this.drop("server close frame with a 1-byte payload");
    const code = payload.length >= 2 ? payload.readUInt16BE(0) : null;
    if (code !== null && !validCode(code)) return this.drop(`server close code ${code} is not one to send`);
    if (!utf8Valid(payload.subarray(2))) return this.drop("server close reason that is not UTF-8");
    this.run.remoteCode = code;
    this.run.wasClean = true;
    // The server started the close: answer with 1000 (Autobahn does not echo the code), then the server closes TCP.
    if (this.state === "open") {
      this.state = "closing";
      this.write(OP.close, Buffer.from([0x03, 0xe8]));
    }
  }

  /** Autobahn's finishWhenDone: once every expectation is met, close (unless the case closes by itself). */
  private event(e: Event): void {
    this.run.received.push(e);
    const lists = Object.values(this.c.expect);
    if (this.c.closing.byMe && !this.c.ownClose && lists.every((l) => sameEvents(this.run.received, l))) this.sendClose(this.c.closing.codes[0]);
  }

  private sendClose(code?: number, reason?: Buffer): void {
    if (this.state !== "open") return; // Autobahn sends one close, whatever the case asks later
    const payload = Buffer.concat([code === undefined ? Buffer.alloc(0) : Buffer.from([code >> 8, code & 0xff]), reason ?? Buffer.alloc(0)]);
    this.state = "closing";
    this.run.closedByMe = true;
    this.write(OP.close, payload);
  }

  /** A frame's bytes, masked, noted in the run's log. */
  private frameBytes(opcode: number, payload: Buffer, fin = true, rsv = 0): Buffer {
    const mask = this.wire.random(4);
    this.run.sent.push(`${OP_NAMES[opcode] ?? `op${opcode}`}${fin ? "" : " (no FIN)"}${rsv ? ` rsv=${rsv}` : ""} ${show(payload)}`);
    return Buffer.concat([header(fin, rsv, opcode, payload.length, mask), masked(payload, mask)]);
  }

  private put(bytes: Buffer): void {
    if (this.state !== "closed") this.wire.write(bytes);
  }

  private write(opcode: number, payload: Buffer, fin = true, rsv = 0): void {
    this.put(this.frameBytes(opcode, payload, fin, rsv));
  }

  /** Autobahn's kill: drop the TCP connection. */
  private drop(why?: string): void {
    if (this.state === "closed") return;
    if (why && !this.run.trouble) this.run.trouble = why;
    this.run.droppedByMe = true;
    this.run.wasClean = false;
    this.state = "closed";
    this.wire.drop();
  }

  /** The state as it is now (a plain read is narrowed by checks made before an await). */
  private is(state: State): boolean {
    return this.state === state;
  }

  private async play(): Promise<void> {
    for (const step of this.c.steps) {
      if (this.is("closed")) return;
      if ("frame" in step) await this.sendFrame(step.frame);
      else if ("close" in step) this.sendClose(step.close.code, step.close.reason);
      else if ("head" in step || "data" in step) {
        if (this.state !== "open") return; // Autobahn's streaming sends go out only while open
        if ("head" in step) {
          this.streaming = { mask: this.wire.random(4), at: 0 };
          this.run.sent.push(`text (no FIN) header for ${step.head} bytes`);
          this.put(header(false, 0, OP.text, step.head, this.streaming.mask));
        } else {
          this.run.sent.push(`its bytes ${show(step.data)}`);
          this.put(masked(step.data, this.streaming.mask, this.streaming.at));
          this.streaming.at += step.data.length;
        }
      } else {
        await this.wire.sleep(pause(step.wait));
        if (step.tag === undefined ? this.is("closed") : !this.is("open")) return;
        if (step.tag !== undefined) this.run.received.push({ kind: "timeout", tag: step.tag });
      }
    }
    const end = this.c.end;
    if ("kill" in end) this.wire.after(deadline(end.kill), () => this.drop());
    else {
      this.wire.after(deadline(end.closeAfter), () => this.sendClose());
      // Autobahn's close handshake timeout: a second for the server to answer and close.
      this.wire.after(deadline(end.closeAfter) + 1000, () => this.drop());
    }
  }

  private async sendFrame(f: Frame): Promise<void> {
    const payload = f.repeatTo === undefined ? f.payload : Buffer.alloc(f.repeatTo, f.payload);
    const bytes = this.frameBytes(f.opcode, payload, f.fin, f.rsv);
    if (!f.chop) {
      this.put(bytes);
      if (f.sync) await this.wire.sleep(TURN_MS);
      return;
    }
    this.run.sent[this.run.sent.length - 1] += ` in chops of ${f.chop}`;
    for (let i = 0; i < bytes.length && this.state !== "closed"; i += f.chop) {
      this.put(bytes.subarray(i, i + f.chop));
      await this.wire.sleep(TURN_MS);
    }
  }
}

function sameEvents(a: Event[], b: Event[]): boolean {
  return a.length === b.length && a.every((x, i) => {
    const y = b[i];
    if (x.kind !== y.kind) return false;
    if (x.kind === "timeout" || y.kind === "timeout") return x.kind === "timeout" && y.kind === "timeout" && x.tag === y.tag;
    if (x.kind === "message" && y.kind === "message" && x.binary !== y.binary) return false;
    return x.data.equals(y.data);
  });
}

/** Plays a case over a TCP connection to host:port, in real time. */
export function play(c: AutobahnCase, host: string, port: number): Promise<Run> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const timers: NodeJS.Timeout[] = [];
    const fuzzer = new Fuzzer(c, {
      authority: `${host}:${port}`,
      write: (bytes) => socket.write(bytes),
      drop: () => socket.destroy(),
      random: randomBytes,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      after: (ms, f) => {
        timers.push(setTimeout(f, ms));
      },
    }, resolve);
    socket.on("connect", () => fuzzer.connected());
    socket.on("data", (d: Buffer) => fuzzer.receive(d));
    socket.on("error", () => {}); // a reset is one way for a server to fail a connection: 'close' follows
    socket.on("close", () => {
      for (const t of timers) clearTimeout(t);
      fuzzer.closed();
    });
  });
}

/** Lets the fuzzer's promise chain (its play() after a wait or a send) run to its next wait. */
const turn = () => new Promise((r) => setImmediate(r));

/**
 * Plays a case over a new client of the simulator, in virtual time. What a socket's event
 * loop does in real time is done in turns: run the network until nothing more happens,
 * hand the fuzzer what arrived, let it write; once neither side has more to say, move the
 * virtual clock on to the fuzzer's next timer (a wait, a turn between chops, a deadline),
 * the server's own timers firing on the way. So a wait keeps its meaning (the server has
 * done all it will, timers included, by the time it ends; the server's clock sees it at
 * least as long, since the simulator's clock also ticks while it runs) at no cost in real
 * time. Each chop is delivered before the next is written, so chops still arrive as reads
 * of their own, unless the network's faults cut them further. The key and the masks come
 * from the seed, so a seed replays a run byte for byte.
 */
export async function playSimulated(c: AutobahnCase, network: VirtualNetwork): Promise<Run> {
  const client = network.connect();
  const random = new Random(network.seed);
  const timers: { at: number; f: () => void }[] = [];
  let now = 0;
  let wrote = false;
  let dropped = false;
  let seen = 0;
  let run: Run | undefined;
  const after = (ms: number, f: () => void) => {
    timers.push({ at: now + ms, f });
  };
  const fuzzer = new Fuzzer(c, {
    authority: "autobahn.test",
    write: (bytes) => {
      client.write(bytes);
      wrote = true;
    },
    // A virtual client cannot reset: it half-closes, and the server then closes its side.
    drop: () => {
      client.end();
      dropped = true;
    },
    random: (n) => Buffer.from(Array.from({ length: n }, () => random.int(256))),
    sleep: (ms) => new Promise((r) => after(ms, r)),
    after,
  }, (r) => (run = r));
  // What the server sent since the last look, to the fuzzer; true once the connection is gone.
  const deliver = () => {
    if (dropped) return true;
    const got = client.received();
    if (got.length > seen) fuzzer.receive(got.subarray(seen));
    seen = got.length;
    return dropped || client.closed;
  };
  fuzzer.connected();
  for (;;) {
    await network.settle();
    if (deliver()) break;
    await turn();
    if (wrote) {
      wrote = false;
      continue;
    }
    // The case limit's timer is always there while the connection lasts.
    const next = timers.sort((a, b) => a.at - b.at).shift()!;
    network.advance(next.at - now);
    now = next.at;
    if (deliver()) break;
    next.f();
    await turn();
  }
  fuzzer.closed();
  return run!;
}

export type Verdict = "OK" | "NON-STRICT" | "INFORMATIONAL" | "FAILED";

/**
 * Autobahn's two judgements, then one verdict. The events: the first expectation they
 * match (OK or NON-STRICT), else FAILED. The closing: the right side closed, cleanly if
 * required, with an allowed code or none, and the server (not the client) dropped TCP.
 * Autobahn reports the closing in a column of its own; here it counts: a wrong code is
 * NON-STRICT (Autobahn's colour for it) unless the case makes it fatal, and any other
 * closing fault FAILS, since "fail the connection" not done is the point of most cases.
 */
export function judge(c: AutobahnCase, run: Run): { verdict: Verdict; detail: string } {
  let events: Verdict = "FAILED";
  for (const [verdict, expected] of Object.entries(c.expect) as [Verdict, Event[]][]) {
    if (sameEvents(run.received, expected)) {
      events = verdict;
      break;
    }
  }
  const code = run.remoteCode;
  let closing: string;
  if (!run.opened) closing = "FAILED: the opening handshake did not complete";
  else if (c.closing.byMe !== run.closedByMe) closing = `FAILED: the ${run.closedByMe ? "client" : "server"} started the close`;
  else if (c.closing.clean && !run.wasClean) closing = "UNCLEAN: no close frame came back";
  else if (code !== null && !c.closing.codes.includes(code)) closing = `WRONG CODE: ${code}, not ${c.closing.codes.join(" or ")}`;
  else if (run.droppedByMe) closing = "FAILED BY CLIENT: the server left the connection open";
  else closing = "OK";
  const wrongSide = c.closing.byMe !== run.closedByMe;
  if ((c.closing.wrongEndpointFatal && wrongSide) || (c.codeMatters && closing.startsWith("WRONG CODE"))) events = "FAILED";
  const detail = [
    `sent: ${run.sent.join(", ")}`,
    `got: [${run.received.map(describe).join(", ")}]`,
    `close from the server: ${run.wasClean ? (code ?? "no code") : "none"}`,
    `closing: ${closing}`,
    ...(run.trouble ? [`client gave up: ${run.trouble}`] : []),
  ].join("; ");
  if (c.informational) return { verdict: "INFORMATIONAL", detail };
  if (events === "FAILED" || (closing !== "OK" && !closing.startsWith("WRONG CODE"))) return { verdict: "FAILED", detail };
  return { verdict: closing === "OK" ? events : "NON-STRICT", detail };
}

function describe(e: Event): string {
  if (e.kind === "timeout") return `timeout ${e.tag}`;
  if (e.kind === "message") return `${e.binary ? "binary" : "text"} ${show(e.data)}`;
  return `${e.kind} ${show(e.data)}`;
}

/**
 * Every case played (by `playCase`) and judged: how many came out with each verdict, and
 * what is wrong, in words: a case FAILED, or one of the DEVIATIONS no longer fails.
 */
export async function verdicts(playCase: (c: AutobahnCase) => Promise<Run>): Promise<{ counts: Record<Verdict, number>; wrong: string[] }> {
  const counts: Record<Verdict, number> = { OK: 0, "NON-STRICT": 0, INFORMATIONAL: 0, FAILED: 0 };
  const wrong: string[] = [];
  for (const c of AUTOBAHN_CASES) {
    const { verdict, detail } = judge(c, await playCase(c));
    counts[verdict]++;
    const deviation = DEVIATIONS[c.id];
    if (deviation !== undefined && verdict !== "FAILED") wrong.push(`${c.id} no longer deviates (${deviation}): ${verdict}; ${detail}`);
    if (deviation === undefined && verdict === "FAILED") wrong.push(`${c.id} ${c.description}: ${detail}`);
  }
  return { counts, wrong };
}

/** The counts of verdicts, in words. */
export const tally = (counts: Record<Verdict, number>) => Object.entries(counts).map(([v, n]) => `${n} ${v}`).join(", ");
