// Host calls from a handler module (assembly/sdk/host.ts): the module asks for a function
// by name (an OUT_HOST_CALL outbox entry), the application's function (createServer's
// `calls`) answers, at once or later, and the answer goes back as an EV_CALL_RESULT event
// for the same connection. The module's clock times out calls nobody answers.
import { EV } from "../host/door.js";

/** What a host function is told besides the data. */
export interface HostCallInfo {
  /** The function's name, as the module called it. */
  name: string;
  /** The connection the handler called for (its id). */
  connection: number;
  /** The call's id, which the module's answer hook gets. */
  id: number;
}

/** What a host function may return (or resolve to): the answer's bytes; a string goes as UTF-8, nothing as no bytes. */
export type HostCallResult = string | Uint8Array | undefined | void;

/** A function the module may call by name, with the bytes it sent. */
export type HostCallFunction = (data: Buffer, call: HostCallInfo) => HostCallResult | Promise<HostCallResult>;

/** The most bytes an answer carries (a larger one is answered ANSWER_TOO_LARGE instead). */
export const MAX_ANSWER_BYTES = 64 * 1024;

// Answer statuses (assembly/calls.ts).
const OK = 0;
const FAILED = 1;
const UNKNOWN = 2;
const TOO_LARGE = 4;

type Inject = (op: number, conn: number, bytes: Uint8Array) => void;

/** The application's side of host calls for one server. */
export class HostCalls {
  /** Calls whose function has not answered yet. */
  pending = 0;

  constructor(private readonly functions: Record<string, HostCallFunction>, private readonly inject: Inject,
    private readonly onError: (err: Error, call: HostCallInfo) => void) {}

  /** One OUT_HOST_CALL entry: id u32 · name length u32 · name · data. */
  call(connection: number, payload: Buffer): void {
    const id = payload.readUInt32LE(0);
    const nameLength = payload.readUInt32LE(4);
    const name = payload.toString("utf8", 8, 8 + nameLength);
    const data = Buffer.from(payload.subarray(8 + nameLength));
    const info: HostCallInfo = { name, connection, id };
    const fn = Object.hasOwn(this.functions, name) ? this.functions[name] : undefined;
    if (!fn) return this.answer(info, UNKNOWN, Buffer.from(`no host function "${name}"`));
    const fail = (thrown: unknown) => {
      const err = thrown instanceof Error ? thrown : new Error(String(thrown));
      this.onError(err, info);
      this.answer(info, FAILED, Buffer.from(err.message));
    };
    let result: ReturnType<HostCallFunction>;
    try {
      result = fn(data, info);
    } catch (err) {
      return fail(err);
    }
    if (!(result instanceof Promise)) return this.answer(info, OK, bytesOf(result));
    this.pending++;
    result.then((value) => this.answer(info, OK, bytesOf(value)), fail).finally(() => this.pending--);
  }

  private answer(call: HostCallInfo, status: number, data: Uint8Array): void {
    if (data.length > MAX_ANSWER_BYTES) [status, data] = [TOO_LARGE, Buffer.alloc(0)];
    const head = Buffer.alloc(8);
    head.writeUInt32LE(call.id, 0);
    head.writeUInt32LE(status, 4);
    this.inject(EV.CALL_RESULT, call.connection, Buffer.concat([head, data]));
  }
}

function bytesOf(result: HostCallResult): Uint8Array {
  if (result === undefined) return Buffer.alloc(0);
  return typeof result === "string" ? Buffer.from(result, "utf8") : result;
}
