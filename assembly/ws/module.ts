// The ws module: HTTP plus WebSocket upgrades whose messages go to JavaScript.
export * from "../door";
export * from "../http/exports";
import { WS_JS } from "../http/config";
import { registerHttp } from "../http/register";

registerHttp(WS_JS);
