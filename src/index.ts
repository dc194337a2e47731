export { createServer, Server, type AddressInfo, type ServerStats } from "./server.js";
export type { ServerOptions } from "./options.js";
