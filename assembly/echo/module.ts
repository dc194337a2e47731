// The echo module, on the SDK's stream level: every byte back, from where the kernel put it.
export * from "../door";
import { onData, send } from "../sdk/stream";

onData(send);
