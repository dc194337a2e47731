// The CPU budget of a handler's code, counted in executed work rather than time, so the
// same input runs out at the same point on every host and in replay. `wasm-reactor
// build` inserts a call to __wr_fuel() at the top of every loop body and function body
// of the user's own files (src/fuel-transform.ts); the core and the SDK are not metered
// (their loops are bounded by the input). The dispatcher refills the budget before each
// event, so it does not depend on how a host happened to batch events.
//
// The units left are a global, not memory: a metered loop iteration costs a decrement
// and a branch on a register-like value (door.ts exports it for checkpoints). The budget
// per event sits in memory, read once per event.

// No limit until the host sets one (start-up code runs before it can).
const BUDGET = memory.data<i32>([i32.MAX_VALUE]);
export let fuelLeft: i32 = i32.MAX_VALUE;

/** One unit of work: a loop iteration or a function call of the handler's code. */
// @ts-ignore: decorator
@global @inline export function __wr_fuel(): void {
  if (--fuelLeft < 0) fuelExhausted();
}

function fuelExhausted(): void {
  abort("CPU budget exhausted");
}

/** Units a handler may spend on one event (0: no limit). */
export function fuelSetBudget(units: u32): void {
  store<i32>(BUDGET, units == 0 || units > <u32>i32.MAX_VALUE ? i32.MAX_VALUE : <i32>units);
  fuelRefill();
}

/** A new event: the whole budget again. */
@inline export function fuelRefill(): void {
  fuelLeft = load<i32>(BUDGET);
}
