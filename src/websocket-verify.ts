// verifyClient, as the `ws` package shapes it: the application decides each upgrade
// before its 101. The module holds the upgrade (assembly/http/handler.ts PH_VERIFY) and
// hands JS its request; the verdict goes back as EV_WS_ACCEPT, or as an ordinary HTTP
// answer (status, fields, a short body) after which the connection closes.
import { STATUS_CODES, type OutgoingHttpHeaders } from "node:http";
import type { IncomingRequest } from "./http-request.js";

export interface VerifyClientInfo {
  /** The Origin field (browsers send it; other clients may not). */
  origin: string | undefined;
  /** Always false: plain TCP (a TLS-terminating proxy in front says so in its own fields). */
  secure: boolean;
  /** The upgrade request: url, headers, and req.socket's addresses. */
  req: IncomingRequest;
}

/** The asynchronous form's callback: accept (true), or refuse with a status (default 401), a message and fields. */
export type VerifyClientDone = (result: boolean, code?: number, message?: string, headers?: OutgoingHttpHeaders) => void;

/**
 * Sync (returns a boolean), promise-returning, or with ws's callback: a function that
 * declares two parameters is given `done` and its return value is ignored.
 */
export type VerifyClient = (info: VerifyClientInfo, done: VerifyClientDone) => boolean | Promise<boolean> | void;

export type Verdict = { accept: true } | { accept: false; code: number; message: string; headers: OutgoingHttpHeaders };

/**
 * Runs verifyClient for one upgrade and calls `decide` once with its verdict. What it
 * throws (or rejects with) refuses the upgrade with a 500 and goes to `onError`: a
 * verifier can never take the process down.
 */
export function runVerifyClient(verify: VerifyClient, req: IncomingRequest, decide: (verdict: Verdict) => void,
  onError: (err: unknown) => void): void {
  let decided = false;
  const once = (verdict: Verdict) => {
    if (decided) return;
    decided = true;
    decide(verdict);
  };
  const done: VerifyClientDone = (result, code = 401, message, headers = {}) =>
    once(result ? { accept: true } : { accept: false, code, message: message ?? STATUS_CODES[code] ?? "Refused", headers });
  const failed = (err: unknown) => {
    onError(err);
    done(false, 500);
  };
  const origin = req.headers.origin;
  const info: VerifyClientInfo = { origin: Array.isArray(origin) ? origin[0] : origin, secure: false, req };
  try {
    const result = verify(info, done);
    const settled = typeof (result as Promise<boolean>)?.then === "function" ? (result as Promise<boolean>) : undefined;
    // With `done` declared, the verdict is what done() says; a promise it returns may still reject.
    if (verify.length >= 2) return void settled?.then(undefined, failed);
    if (settled) settled.then((ok) => done(ok === true), failed);
    else done(result === true);
  } catch (err) {
    failed(err);
  }
}

/** A refusal's status must be one an HTTP client reads as a refusal. */
export function refusalCode(code: number): number {
  return Number.isInteger(code) && code >= 400 && code <= 599 ? code : 500;
}
