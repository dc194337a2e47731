// HTTP/1.1 conformance scenarios, as data for test/conformance.test.ts: raw bytes a
// client writes and the exact bytes it must get back (the Date field's value is
// normalised, since it is the clock's). Each runs on the native, net and simulated hosts.
import type { ServerOptions } from "../src/options.js";

export interface HttpScenario {
  name: string;
  options?: ServerOptions;
  writes: Buffer[];
  end?: boolean;
  /** After the writes, wait this long (virtual time on the simulator) for a timeout. */
  waitMs?: number;
  reply: Buffer;
  closes: boolean;
}

const b = (s: string) => Buffer.from(s);
const HELLO = "Hello from wasm-reactor\n";
const ROUTES = { "/": HELLO, "/a": "alpha", "/b": { status: 201, headers: { "X-Kind": "bee" }, body: "bravo" } };

type Persist = "keep" | "close" | "keep-alive";
const tail = (persist: Persist) =>
  `Date: X\r\n${persist === "close" ? "Connection: close\r\n" : persist === "keep-alive" ? "Connection: keep-alive\r\n" : ""}\r\n`;

/** A route's response, exactly as the module writes it. */
function routeReply(body: string, persist: Persist = "keep", head = false, status = "200 OK", extra = ""): string {
  return `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n`
    + tail(persist) + (head ? "" : body);
}

const REASONS: Record<number, string> = {
  400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout", 413: "Content Too Large",
  414: "URI Too Long", 417: "Expectation Failed", 431: "Request Header Fields Too Large", 501: "Not Implemented",
  505: "HTTP Version Not Supported",
};

/** A response the module makes up itself: its reason phrase is its body. */
export function statusReply(code: number, persist: Persist = "close", head = false): string {
  const reason = REASONS[code];
  return `HTTP/1.1 ${code} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${reason.length + 1}\r\n`
    + (code === 405 ? "Allow: GET, HEAD\r\n" : "") + tail(persist) + (head ? "" : `${reason}\n`);
}

const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;
const pipelined = Array.from({ length: 100 }, (_, i) => get(i % 2 ? "/b" : "/a")).join("");
const pipelinedReplies = Array.from({ length: 100 }, (_, i) => i % 2
  ? routeReply("bravo", "keep", false, "201 Created", "X-Kind: bee\r\n") : routeReply("alpha")).join("");
const chunkedPost = "POST /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
  + "5;name=value\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: yes\r\n\r\n";
const bytewise = (s: string) => [...b(s)].map((c) => Buffer.from([c]));

const scenario = (name: string, request: string | Buffer[], reply: string, closes: boolean, extra: Partial<HttpScenario> = {}): HttpScenario =>
  ({ name: `http: ${name}`, options: { routes: ROUTES }, writes: typeof request === "string" ? [b(request)] : request,
    reply: b(reply), closes, ...extra });

export const HTTP_SCENARIOS: HttpScenario[] = [
  scenario("GET / is answered by the default route, and the connection stays open", get("/"), routeReply(HELLO), false, { options: {} }),
  scenario("HEAD gets the headers of GET and no body", `HEAD /a HTTP/1.1\r\nHost: t\r\n\r\n`, routeReply("alpha", "keep", true), false),
  scenario("the query string does not change the route", get("/a?x=1&y=2"), routeReply("alpha"), false),
  scenario("an unknown path is 404 and the connection stays open", get("/nope") + get("/a"), statusReply(404, "keep") + routeReply("alpha"), false),
  scenario("100 pipelined requests in one write are answered in order", pipelined, pipelinedReplies, false),
  scenario("a request written one byte at a time is answered once", bytewise(get("/a")), routeReply("alpha"), false),
  scenario("Connection: close is answered, then the connection closes", get("/a", "Connection: close\r\n") + get("/b"), routeReply("alpha", "close"), true),
  scenario("HTTP/1.0 closes after the response by default", "GET /a HTTP/1.0\r\n\r\n", routeReply("alpha", "close"), true),
  scenario("HTTP/1.0 with keep-alive stays open", "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", routeReply("alpha", "keep-alive"), false),
  scenario("a body with Content-Length is read past, then the next request is answered", `POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world${get("/a")}`,
    statusReply(405, "keep") + routeReply("alpha"), false),
  scenario("a chunked body with extensions and trailers is read past, in pieces", bytewise(chunkedPost + get("/b")).reduce<Buffer[]>((acc, x, i) => {
    if (i % 7 === 0) acc.push(x); else acc[acc.length - 1] = Buffer.concat([acc[acc.length - 1], x]);
    return acc;
  }, []), statusReply(405, "keep") + routeReply("bravo", "keep", false, "201 Created", "X-Kind: bee\r\n"), false),
  scenario("Expect: 100-continue gets 100 Continue before the body is sent", `POST /a HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n`,
    "HTTP/1.1 100 Continue\r\n\r\n", false),
  scenario("bare LF line ends are 400, as in llhttp's strict mode (they used to be accepted)", "GET /a HTTP/1.1\nHost: t\n\n", statusReply(400), true),
  scenario("empty lines before a request are ignored", "\r\n\r\n" + get("/a"), routeReply("alpha"), false),
  scenario("a half-closed client gets its answer, then the close", get("/a"), routeReply("alpha"), true, { end: true }),
  scenario("garbage is 400 and the connection closes", "NOT HTTP AT ALL\r\n\r\n", statusReply(400), true),
  scenario("a missing Host under HTTP/1.1 is 400", "GET /a HTTP/1.1\r\n\r\n", statusReply(400), true),
  scenario("two Host fields are 400", "GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", statusReply(400), true),
  scenario("an obs-fold header line is 400", "GET /a HTTP/1.1\r\nHost: t\r\nX-A: one\r\n two\r\n\r\n", statusReply(400), true),
  scenario("whitespace before the colon is 400", "GET /a HTTP/1.1\r\nHost : t\r\n\r\n", statusReply(400), true),
  scenario("a control character in a value is 400", "GET /a HTTP/1.1\r\nHost: t\r\nX-A: a\x01b\r\n\r\n", statusReply(400), true),
  scenario("HTTP/2.0 is 505", "GET /a HTTP/2.0\r\nHost: t\r\n\r\n", statusReply(505), true),
  scenario("a header section over the limit is 431", get("/a", `X-Big: ${"h".repeat(600)}\r\n`), statusReply(431), true,
    { options: { routes: ROUTES, maxHeaderSize: 512 } }),
  scenario("an unfinished header section over the limit is 431 before it ends", get("/a", `X-Big: ${"h".repeat(600)}`).slice(0, -2), statusReply(431), true,
    { options: { routes: ROUTES, maxHeaderSize: 512 } }),
  scenario("a target over the limit is 414", get(`/${"u".repeat(100)}`), statusReply(414), true, { options: { routes: ROUTES, maxUriLength: 64 } }),
  scenario("a request line that never ends is 414", `GET /${"u".repeat(300)}`, statusReply(414), true, { options: { routes: ROUTES, maxUriLength: 64 } }),
  scenario("a Content-Length over the body limit is 413; the body is read and dropped until the client closes",
    [b(`POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n`), b("d".repeat(500)), b("d".repeat(500))], statusReply(413), true,
    { options: { routes: ROUTES, maxBodySize: 100 }, end: true }),
  scenario("a chunked body growing over the limit is 413", `POST /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n${"c".repeat(64)}\r\n40\r\n`,
    statusReply(413), true, { options: { routes: ROUTES, maxBodySize: 100 }, end: true }),
  scenario("after a 413 a client that neither sends nor closes is closed at the idle timeout", `POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n`,
    statusReply(413), true, { options: { routes: ROUTES, maxBodySize: 100, keepAliveTimeout: 150 }, waitMs: 200 }),
  scenario("an unknown transfer coding is 501", "POST /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", statusReply(501), true),
  scenario("Content-Length with Transfer-Encoding is 400 (smuggling)", "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    statusReply(400), true),
  scenario("two different Content-Length values are 400 (smuggling)", "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", statusReply(400), true),
  scenario("a Content-Length list of one value is accepted", `POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 5\r\n\r\nhello${get("/a")}`,
    statusReply(405, "keep") + routeReply("alpha"), false),
  scenario("a signed Content-Length is 400", "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello", statusReply(400), true),
  scenario("chunked twice is 400 (smuggling)", "POST /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", statusReply(400), true),
  scenario("Transfer-Encoding under HTTP/1.0 is 400", "POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", statusReply(400), true),
  scenario("a header line ending in a bare LF is 400 (smuggling)", "POST /a HTTP/1.1\r\nHost: t\r\nX: x\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    statusReply(400), true),
  scenario("a chunk size that is not hex is 400", "POST /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", statusReply(400), true),
  // Chunked framing as strict as llhttp's strict mode: every line ends with CRLF, and
  // extensions are well formed, so no peer in front can read the request's end elsewhere.
  ...([
    ["a bare LF ending a chunk-size line", "5\nhello\r\n0\r\n\r\n"],
    ["a bare LF ending a chunk's data", "5\r\nhello\n0\r\n\r\n"],
    ["junk after the chunk size", "5 x\r\nhello\r\n0\r\n\r\n"],
    ["whitespace after the chunk size with no extension", "5 \r\nhello\r\n0\r\n\r\n"],
    ["whitespace after an extension, before the line's end", "5;a=b \r\nhello\r\n0\r\n\r\n"],
    ["a lone ';' after the chunk size", "5;\r\nhello\r\n0\r\n\r\n"],
    ["an extension value with an unclosed quote", "5;a=\"b\r\nhello\r\n0\r\n\r\n"],
    ["an extension with '=' and no value", "5;a=\r\nhello\r\n0\r\n\r\n"],
    ["a bare LF ending a trailer line", "0\r\nX-T: y\nZ: 1\r\n\r\n"],
  ] as const).map(([what, body]) => scenario(`${what} is 400 (smuggling)`,
    `POST /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${body}`, statusReply(400), true)),
  scenario("well-formed chunk extensions (whitespace, tokens, quoted strings with escapes) are read past",
    `POST /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5 ; a = b ;c="d;\\"e\\" f"\r\nhello\r\n0;last\r\nX-T: y\r\n\r\n${get("/a")}`,
    statusReply(405, "keep") + routeReply("alpha"), false),
  scenario("an unfinished head is 408 at the header timeout", "GET /a HTTP/1.1\r\nHost: t\r\n", statusReply(408), true,
    { options: { routes: ROUTES, headersTimeout: 150 }, waitMs: 200 }),
  scenario("an idle keep-alive connection is closed quietly at the idle timeout", get("/a"), routeReply("alpha"), true,
    { options: { routes: ROUTES, keepAliveTimeout: 150 }, waitMs: 200 }),
  scenario("an expectation other than 100-continue is 417", "GET /a HTTP/1.1\r\nHost: t\r\nExpect: magic\r\n\r\n", statusReply(417), true),
];
