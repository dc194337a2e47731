// The peer of the connection being accepted: the ACCEPT record's words (listener index
// | peer port << 16, peer IPv4 address), kept while its open hook runs so a protocol may
// pass them on (http/stream.ts tells JS, for req.socket). They come in the record, so a
// trace replays them like any input.

const ACCEPTED = memory.data(8);

export function noteAccept(a: u32, b: u32): void {
  store<u32>(ACCEPTED, a);
  store<u32>(ACCEPTED, b, 4);
}

/** Listener index | peer port << 16. */
@inline export function acceptedListenerAndPort(): u32 { return load<u32>(ACCEPTED); }

/** The peer's IPv4 address as its four bytes in order (0: unknown, or IPv6). */
@inline export function acceptedAddress(): u32 { return load<u32>(ACCEPTED, 4); }
