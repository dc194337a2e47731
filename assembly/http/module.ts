// The http module: the core's door with HTTP/1.1 (routes in the module, the rest to JS when asked).
export * from "../door";
export * from "./exports";
import { WS_OFF } from "./config";
import { registerHttp } from "./register";

registerHttp(WS_OFF);
