// The http module: HTTP/1.1 with the static routes the host sets up (addRoute), and
// requests no route answers handed to JavaScript when the host has a 'request' listener
// (the JS bridge http/js.ts, as the module's request hook), else 404.
export * from "../door";
export * from "./exports";
import { WS_OFF } from "./config";
import { setRequestHook } from "./inmodule";
import { requestToJs } from "./js";
import { registerHttp } from "./register";

registerHttp(WS_OFF);
setRequestHook(requestToJs);
