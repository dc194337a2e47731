// line: newline-framed. Each complete line is answered with itself (newline
// included). A line may arrive in pieces (the start waits in the connection's input
// buffer) or many lines may arrive in one read (they are answered as one run of the
// arena, without copying). A line longer than the limit gets an error line and the
// connection closes; an unfinished line at end of input is not a line and is dropped.

import { OPT_MAX_LINE } from "../abi";
import { bufAppend, bufData, bufFree, bufLength } from "../buffer";
import { inBuf, setInBuf } from "../handles";
import { closeWhenFlushed, send } from "../output";

const NEWLINE: u8 = 0x0a;

export let maxLine: u32 = 65536;
// "ERR line too long\n", static so that nothing is allocated for it.
const ERROR_LINE = memory.data<u8>([
  0x45, 0x52, 0x52, 0x20, 0x6c, 0x69, 0x6e, 0x65, 0x20, 0x74, 0x6f, 0x6f, 0x20, 0x6c, 0x6f, 0x6e, 0x67, 0x0a,
]);
const ERROR_LINE_BYTES: u32 = 18;

/** setOption: OPT_MAX_LINE sets the longest line accepted. */
export function lineOption(key: u32, value: u32): bool {
  if (key != OPT_MAX_LINE) return false;
  maxLine = value;
  return true;
}

function indexOfNewline(ptr: usize, from: u32, len: u32): i32 {
  for (let i = from; i < len; i++) {
    if (load<u8>(ptr + i) == NEWLINE) return <i32>i;
  }
  return -1;
}

function tooLong(slot: u32): void {
  bufFree(inBuf(slot));
  setInBuf(slot, 0);
  send(slot, ERROR_LINE, ERROR_LINE_BYTES);
  closeWhenFlushed(slot);
}

export function lineData(slot: u32, ptr: usize, len: u32): void {
  let pos: u32 = 0;
  const pending = inBuf(slot);
  if (pending != 0) {
    // Finish the line started in an earlier read.
    const nl = indexOfNewline(ptr, 0, len);
    const take = nl < 0 ? len : <u32>nl + 1;
    const content = bufLength(pending) + (nl < 0 ? take : take - 1);
    if (content > maxLine) return tooLong(slot);
    const line = bufAppend(pending, ptr, take);
    if (nl < 0) return setInBuf(slot, line);
    send(slot, bufData(line), bufLength(line));
    bufFree(line);
    setInBuf(slot, 0);
    pos = take;
  }
  // Whole lines in this read form one run of the arena: answer them in one send.
  const runStart = pos;
  for (let nl = indexOfNewline(ptr, pos, len); nl >= 0; nl = indexOfNewline(ptr, pos, len)) {
    if (<u32>nl - pos > maxLine) {
      send(slot, ptr + runStart, pos - runStart);
      return tooLong(slot);
    }
    pos = <u32>nl + 1;
  }
  send(slot, ptr + runStart, pos - runStart);
  const rest = len - pos;
  if (rest > maxLine) return tooLong(slot);
  if (rest != 0) setInBuf(slot, bufAppend(0, ptr + pos, rest));
}
