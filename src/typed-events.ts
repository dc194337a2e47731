// EventEmitter with its events spelled out: each class names its events and their
// listeners once, in an interface, and a misspelt event name or a listener with the
// wrong arguments is a compile error (node's own generic EventEmitter types let any
// event name through). At run time it is plain node:events EventEmitter.
import { EventEmitter } from "node:events";

/** An event map: event name → listener signature. */
export type EventMap<E> = { [K in keyof E]: (...args: any[]) => void };

/** The EventEmitter methods, restricted to the events of E. */
export interface TypedEventEmitter<E extends EventMap<E>> {
  on<K extends keyof E>(event: K, listener: E[K]): this;
  once<K extends keyof E>(event: K, listener: E[K]): this;
  off<K extends keyof E>(event: K, listener: E[K]): this;
  addListener<K extends keyof E>(event: K, listener: E[K]): this;
  removeListener<K extends keyof E>(event: K, listener: E[K]): this;
  prependListener<K extends keyof E>(event: K, listener: E[K]): this;
  prependOnceListener<K extends keyof E>(event: K, listener: E[K]): this;
  emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): boolean;
  listeners<K extends keyof E>(event: K): E[K][];
  rawListeners<K extends keyof E>(event: K): E[K][];
  listenerCount(event: keyof E): number;
  removeAllListeners(event?: keyof E): this;
  eventNames(): (keyof E)[];
  setMaxListeners(n: number): this;
  getMaxListeners(): number;
}

/** The base class of an emitter of the events E: `class Server extends typedEmitter<ServerEvents>() {}`. */
export function typedEmitter<E extends EventMap<E>>(): new () => TypedEventEmitter<E> {
  return EventEmitter as unknown as new () => TypedEventEmitter<E>;
}
