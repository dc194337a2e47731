// The line module, on the SDK's framed level: each complete line is answered with itself
// (newline included, from where the kernel put it), however the bytes were cut or glued
// in transit; a line over the limit gets an error line and the connection closes.
export * from "../door";
import { OPT_MAX_LINE } from "../abi";
import { onOption } from "../handler";
import { maxMessageBytes, onLine, onTooLong } from "../sdk/framed";
import { send, sendText } from "../sdk/stream";

onLine((conn: u32, line: usize, length: u32): void => {
  send(conn, line, length + 1);
});

onTooLong((conn: u32): void => {
  sendText(conn, "ERR line too long\n");
});

onOption((key: u32, value: u32): bool => {
  if (key != OPT_MAX_LINE) return false;
  maxMessageBytes(value);
  return true;
});
