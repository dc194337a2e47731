// Frameworks swap the prototype of node:http's req and res for their own (Express sets
// one whose chain is node's IncomingMessage or ServerResponse, not ours), and then call
// methods through it. So each of our requests and responses carries its class's
// methods as own properties, which no prototype swap can hide. Every object gets the
// same function references in the same order, so they share one shape; the stores are
// compiled once per class into straight-line code (`t["write"] = P["write"]; …`), about
// six times faster than a loop of keyed stores on this per-request path.

const copiers = new WeakMap<object, (target: object, prototype: object) => void>();

/** Puts every method `prototype` defines (getters excluded) on `target` itself. */
export function keepMethods(target: object, prototype: object): void {
  let copy = copiers.get(prototype);
  if (!copy) {
    const names = Object.entries(Object.getOwnPropertyDescriptors(prototype))
      .filter(([name, d]) => name !== "constructor" && typeof d.value === "function")
      .map(([name]) => JSON.stringify(name));
    copy = new Function("t", "P", names.map((n) => `t[${n}] = P[${n}];`).join("\n")) as (target: object, prototype: object) => void;
    copiers.set(prototype, copy);
  }
  copy(target, prototype);
}
