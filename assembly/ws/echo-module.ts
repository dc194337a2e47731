// The ws-echo module: HTTP plus WebSocket upgrades whose messages the module echoes.
export * from "../door";
export * from "../http/exports";
import { WS_ECHO } from "../http/config";
import { registerHttp } from "../http/register";

registerHttp(WS_ECHO);
