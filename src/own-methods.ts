// Frameworks swap the prototype of node:http's req and res for their own (Express sets
// one whose chain is node's IncomingMessage or ServerResponse, not ours), and then call
// methods through it. So each of our requests and responses carries its class's
// methods as own properties, which no prototype swap can hide. Storing the same
// function references is cheap, and every object gets the same shape.

const methodsByPrototype = new WeakMap<object, [string, unknown][]>();

/** Puts every method `prototype` defines (getters excluded) on `target` itself. */
export function keepMethods(target: object, prototype: object): void {
  let methods = methodsByPrototype.get(prototype);
  if (!methods) {
    methods = Object.entries(Object.getOwnPropertyDescriptors(prototype))
      .filter(([name, d]) => name !== "constructor" && typeof d.value === "function")
      .map(([name, d]) => [name, d.value]);
    methodsByPrototype.set(prototype, methods);
  }
  for (const [name, fn] of methods) (target as Record<string, unknown>)[name] = fn;
}
