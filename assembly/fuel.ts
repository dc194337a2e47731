// The CPU budget of a handler's code, counted in executed work rather than time, so the
// same input runs out at the same point on every host and in replay. `wasm-reactor
// build` inserts a call to __wr_fuel() at the top of every loop body and function body
// of the user's own files (src/fuel-transform.ts); the core and the SDK are not metered
// (their loops are bounded by the input). The dispatcher refills the budget before each
// event, so it does not depend on how a host happened to batch events.
//
//   FUEL: units left i64 · budget per event i64 (i64.MAX_VALUE: no limit)

// No limit until the host sets one (start-up code runs before it can).
const FUEL = memory.data<i64>([i64.MAX_VALUE, i64.MAX_VALUE]);

/** One unit of work: a loop iteration or a function call of the handler's code. */
// @ts-ignore: decorator
@global export function __wr_fuel(): void {
  const left = load<i64>(FUEL) - 1;
  store<i64>(FUEL, left);
  if (left < 0) abort("CPU budget exhausted");
}

/** Units a handler may spend on one event (0: no limit). */
export function fuelSetBudget(units: u32): void {
  store<i64>(FUEL, units == 0 ? i64.MAX_VALUE : <i64>units, 8);
  fuelRefill();
}

/** A new event: the whole budget again. */
@inline export function fuelRefill(): void {
  store<i64>(FUEL, load<i64>(FUEL, 8));
}
