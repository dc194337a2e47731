// The time the host wrote into the header for this batch (docs/ABI.md: NOW_MS and
// UNIX_SECONDS). The module reads no clock of its own, so a recorded trace replays
// with the same time, and the simulator's virtual clock drives timeouts.

const CLOCK = memory.data(8); // now-ms u32, unix-seconds u32

export function setClock(nowMs: u32, unixSeconds: u32): void {
  store<u32>(CLOCK, nowMs, 0);
  store<u32>(CLOCK, unixSeconds, 4);
}

@inline export function nowMs(): u32 {
  return load<u32>(CLOCK, 0);
}

@inline export function unixSeconds(): u32 {
  return load<u32>(CLOCK, 4);
}

/** Whether deadline has come, on a clock that wraps every 49 days. */
@inline export function reached(deadline: u32, now: u32): bool {
  return <i32>(now - deadline) >= 0;
}
