// The Event Handler interface, as the core calls it. The core (dispatcher, handle
// table, output path, buffers, allocator, clock) knows no protocol: a protocol is a
// module of its own whose entry file imports the core and registers its hooks here at
// start-up (registration points up, as Redis's ae backends and proxy-wasm's SDKs do).
// A hook not registered keeps its default below; where the default is the core's own
// behaviour (eof, drain, close), the hook is null and the core does it itself, so this
// file imports nothing of the core.
//
// Each hook is a function reference in a global, called with call_indirect: one
// indirect call per event, nothing next to the system calls around it. The globals are
// set once, by the module's start function, so they are the same in every instance of
// a module (which is what checkpoints rely on: see door.ts's state_hook_* exports).

type SlotHook = (slot: u32) => void;
type BytesHook = (slot: u32, ptr: usize, len: u32) => void;
type HostEventHook = (slot: u32, op: u32, ptr: usize, len: u32) => void;

function nothing(slot: u32): void {}
function ignoreBytes(slot: u32, ptr: usize, len: u32): void {}
function ignoreHostEvent(slot: u32, op: u32, ptr: usize, len: u32): void {}
function ignoreSendCompleted(slot: u32, unsent: u32): void {}
function ignoreBroadcast(op: u32, ptr: usize, len: u32): void {}
function noTick(): void {}
function ignoreCallResult(slot: u32, call: u32, status: u32, ptr: usize, len: u32): void {}
function no(): bool { return false; }
function noDeadline(now: u32): u32 { return now; }
function noOption(key: u32, value: u32): bool { return false; }

/** A connection was accepted. */
export let hookOpen: SlotHook = nothing;
/** Bytes arrived: an arena slice, valid during this dispatch only. */
export let hookData: BytesHook = ignoreBytes;
/** The peer finished sending (null: close once what is queued has gone). */
export let hookEof: SlotHook | null = null;
/** The connection is closing for good. Then the core frees the buffer the handle's input word still holds (a hook that frees its own block sets the word to 0). */
export let hookClose: SlotHook | null = null;
/** Graceful shutdown reached the connection (null: close once flushed). */
export let hookDrain: SlotHook | null = null;
/** An event for one connection from the host's application side (EV_RESPONSE, EV_WS_SEND, …). */
export let hookHostEvent: HostEventHook = ignoreHostEvent;
/** An event for the whole server from the application side (conn 0: EV_WS_BROADCAST, EV_WS_PUBLISH). */
export let hookServerEvent: (op: u32, ptr: usize, len: u32) => void = ignoreBroadcast;
/** A send completed (EV_SENT) with `unsent` bytes left. */
export let hookSendCompleted: (slot: u32, unsent: u32) => void = ignoreSendCompleted;
/** The answer to a host call of the connection (calls.ts): call id, status, the answer's bytes (valid during the hook). */
export let hookCallResult: (slot: u32, call: u32, status: u32, ptr: usize, len: u32) => void = ignoreCallResult;
/** The connection's timer (timers.ts, the SDK's setTimer) came due. */
export let hookTimer: SlotHook = nothing;
/** After the batch's events: timeouts and work spread over batches. */
export let hookTick: () => void = noTick;
/** Whether a timeout is armed; then hookDeadline(now) is the earliest. */
export let hookHasDeadline: () => bool = no;
export let hookDeadline: (now: u32) => u32 = noDeadline;
/** Whether the protocol wants another dispatch even without events. */
export let hookWantsMore: () => bool = no;
/** A set-up option (setOption); false for a key the protocol does not know. */
export let hookOption: (key: u32, value: u32) => bool = noOption;
/** Bytes of reply arena the protocol formats answers into (0: none). */
export let replyArenaHalfBytes: u32 = 0;

export function onOpen(fn: SlotHook): void { hookOpen = fn; }
export function onData(fn: BytesHook): void { hookData = fn; }
export function onEof(fn: SlotHook): void { hookEof = fn; }
export function onClose(fn: SlotHook): void { hookClose = fn; }
export function onDrain(fn: SlotHook): void { hookDrain = fn; }
export function onHostEvent(fn: HostEventHook): void { hookHostEvent = fn; }
export function onServerEvent(fn: (op: u32, ptr: usize, len: u32) => void): void { hookServerEvent = fn; }
export function onSendCompleted(fn: (slot: u32, unsent: u32) => void): void { hookSendCompleted = fn; }
export function onTimer(fn: SlotHook): void { hookTimer = fn; }
export function onCallResult(fn: (slot: u32, call: u32, status: u32, ptr: usize, len: u32) => void): void { hookCallResult = fn; }
export function onTick(fn: () => void): void { hookTick = fn; }
export function onDeadline(has: () => bool, earliest: (now: u32) => u32): void {
  hookHasDeadline = has;
  hookDeadline = earliest;
}
export function onWantsMore(fn: () => bool): void { hookWantsMore = fn; }
export function onOption(fn: (key: u32, value: u32) => bool): void { hookOption = fn; }
/** Asks the core for a reply arena of two halves of `half` bytes at init. */
export function useReplyArena(half: u32): void { replyArenaHalfBytes = half; }
