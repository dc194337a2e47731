// req.socket: what node:http code reads off a request's socket — the peer's and our
// address (the module passes the ACCEPT record's words: assembly/http/stream.ts), the
// readable/writable/destroyed flags and 'close' — on a connection the module owns. There
// is no byte stream here: bytes go through req and res.
import { EventEmitter } from "node:events";

export interface SocketAddresses {
  remoteAddress?: string;
  remotePort?: number;
  remoteFamily?: "IPv4" | "IPv6";
  localAddress?: string;
  localPort?: number;
  localFamily?: "IPv4" | "IPv6";
}

/** The connection a request came on, shaped like the net.Socket node:http gives. */
export class RequestSocket extends EventEmitter {
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  remoteFamily: "IPv4" | "IPv6" | undefined;
  localAddress: string | undefined;
  localPort: number | undefined;
  localFamily: "IPv4" | "IPv6" | undefined;
  /** Plain TCP (Express reads this for req.protocol). */
  readonly encrypted = false;
  readable = true;
  writable = true;
  destroyed = false;
  private timer: NodeJS.Timeout | undefined;
  private timeoutMs = 0;

  /** @internal `abort` closes the connection at once (through the module). */
  constructor(addresses: SocketAddresses, private readonly abortConnection: () => void) {
    super();
    ({ remoteAddress: this.remoteAddress, remotePort: this.remotePort, remoteFamily: this.remoteFamily,
      localAddress: this.localAddress, localPort: this.localPort, localFamily: this.localFamily } = addresses);
  }

  /** Closes the connection now: what is unsent is dropped (node:net's destroy). */
  destroy(err?: Error): this {
    if (this.destroyed) return this;
    this.abortConnection();
    this.closed(err !== undefined);
    return this;
  }

  /** @internal the connection is gone (closed by us, the client, or a timeout). */
  closed(hadError = false): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.readable = this.writable = false;
    this.clearTimer();
    this.emit("close", hadError);
  }

  /** As net.Socket's end(): here it closes once the current response is out, so it is destroy() for a request's socket. */
  end(): this {
    return this.destroy();
  }

  /**
   * node:net's inactivity timeout, counted on this process's clock: 'timeout' after `ms`
   * without activity (a piece of the response or of the body); with no listener for it,
   * the connection is destroyed (node:http's behaviour). 0 turns it off.
   */
  setTimeout(ms: number, callback?: () => void): this {
    this.timeoutMs = ms;
    if (callback) this.once("timeout", callback);
    this.touch();
    return this;
  }

  /** @internal activity on the connection: the inactivity timeout starts again. */
  touch(): void {
    this.clearTimer();
    if (this.timeoutMs <= 0 || this.destroyed) return;
    this.timer = setTimeout(() => {
      if (this.listenerCount("timeout") > 0) this.emit("timeout");
      else this.destroy();
    }, this.timeoutMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  setNoDelay(): this { return this; }
  setKeepAlive(): this { return this; }
  ref(): this { return this; }
  unref(): this { return this; }

  address(): { address?: string; family?: string; port?: number } {
    return { address: this.localAddress, family: this.localFamily, port: this.localPort };
  }
}
