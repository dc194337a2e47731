// The line module: the core's door with line framing, and its option (the longest line).
export * from "../door";
export { maxLine as state_maxLine } from "./handler";
import { onData, onOption } from "../handler";
import { lineData, lineOption } from "./handler";

onData(lineData);
onOption(lineOption);
