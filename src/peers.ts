// The peers of a server's connections, as the module reports them when it accepts one
// (OUT_CONN_PEER: the ACCEPT record's words, assembly/http/stream.ts), kept by slot — a
// later connection on the slot replaces them — for req.socket of HTTP requests and of
// WebSocket upgrades.
import { OUT, SLOT_MASK } from "../host/door.js";
import { localConn } from "../host/threads.js";
import type { SocketAddresses } from "./http-socket.js";

interface Peer {
  conn: number;
  /** Listener index | peer port << 16. */
  listenerAndPort: number;
  /** The peer's IPv4 address, its bytes in order (0: unknown). */
  address: number;
}

/** Where a connection's peer is kept: by thread (host/threads.ts) and slot. */
function slotKey(conn: number): number {
  const [thread, local] = localConn(conn);
  return thread * (SLOT_MASK + 1) + (local & SLOT_MASK);
}

type LocalAddress = { address: string; family: "IPv4" | "IPv6"; port: number };

export class ConnectionPeers {
  private readonly bySlot: (Peer | undefined)[] = [];

  /** `local`: the address the listener of this index is bound to. */
  constructor(private readonly local: (listener: number) => LocalAddress | undefined) {}

  /** One outbox entry; false if it is not a peer report. */
  entry(kind: number, conn: number, payload: Buffer): boolean {
    if (kind !== OUT.CONN_PEER) return false;
    this.bySlot[slotKey(conn)] = { conn, listenerAndPort: payload.readUInt32LE(0), address: payload.readUInt32LE(4) };
    return true;
  }

  /** The socket addresses of a connection: the peer's (if the module reported it) and ours. */
  addresses(conn: number): SocketAddresses {
    const known = this.bySlot[slotKey(conn)];
    const peer = known?.conn === conn ? known : { conn, listenerAndPort: 0, address: 0 };
    const bound = this.local(peer.listenerAndPort & 0xffff);
    const v4 = peer.address === 0 ? undefined
      : `${peer.address & 255}.${(peer.address >>> 8) & 255}.${(peer.address >>> 16) & 255}.${peer.address >>> 24}`;
    // On an IPv6 socket an IPv4 peer is IPv4-mapped, as node:net reports it.
    const remoteAddress = v4 && bound?.family === "IPv6" ? `::ffff:${v4}` : v4;
    return {
      remoteAddress, remotePort: remoteAddress ? peer.listenerAndPort >>> 16 : undefined,
      remoteFamily: remoteAddress ? (bound?.family ?? "IPv4") : undefined,
      localAddress: bound?.address, localPort: bound?.port, localFamily: bound?.family,
    };
  }
}
