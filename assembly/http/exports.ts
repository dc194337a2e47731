// The set-up exports the HTTP modules add to the door: routes, the WebSocket path and
// subprotocols (the host calls them after init, before the first dispatch).

import { setWsPath } from "./config";
import { addRoute as addStaticRoute } from "./routes";
import { setServerProtocols } from "../ws/handshake";

/** Adds a static HTTP route described at p (format in http/routes.ts); false if malformed. */
export function addRoute(p: usize, len: u32): bool {
  return addStaticRoute(p, len);
}

/** WebSocket upgrades only on this path (set-up, like addRoute); by default any path. */
export function setWebSocketPath(p: usize, len: u32): void {
  setWsPath(p, len);
}

/** The WebSocket subprotocols the server speaks, comma-separated (set-up); the client's first match is chosen. */
export function setWebSocketProtocols(p: usize, len: u32): void {
  setServerProtocols(p, len);
}
