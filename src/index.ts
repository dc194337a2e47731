// The public API of wasm-reactor: everything a user imports is exported here.
export { createServer, Server, type AddServerListener, type AddressInfo, type ServerEvents, type ServerStats, type TrapInfo } from "./server.js";
export type { Backend, ResolvedOptions, ServerOptions } from "./options.js";
export type { RunningBackend } from "./server.js";
export type { HostStats } from "../host/host.js";
export type { Protocol } from "../host/module.js";
export {
  IncomingRequest, ServerResponse, RequestSocket, type WriteCallback, type Headers, type IncomingRequestEvents, type RequestListener, type NodeRequestListener, type ServerResponseEvents,
} from "./http.js";
export type { RouteBody, RouteSpec } from "./routes.js";
export { WebSocket, type SendCallback, type WebSocketData, type WebSocketEvents } from "./websocket.js";
export type { VerifyClient, VerifyClientDone, VerifyClientInfo } from "./websocket-verify.js";
export type { RedisPubSubOptions } from "./pubsub-redis.js";
export type { EventMap, TypedEventEmitter } from "./typed-events.js";
export type { HostCallFunction, HostCallInfo, HostCallResult } from "./calls.js";
