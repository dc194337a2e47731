// The echo module: the core's door with echo's one hook (every byte back, from the arena).
export * from "../door";
import { onData } from "../handler";
import { echoData } from "./handler";

onData(echoData);
