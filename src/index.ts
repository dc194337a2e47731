export { createServer, Server, type AddressInfo, type ServerStats } from "./server.js";
export type { ServerOptions } from "./options.js";
export { IncomingRequest, ServerResponse, type Headers, type RequestListener } from "./http.js";
export type { RouteSpec } from "./routes.js";
export { WebSocket, type WebSocketData } from "./websocket.js";
