/**
 * A value now, or a promise of it. The hot path of every request (authentication, placing it
 * in the hierarchy) is answered from caches almost always: returning the value itself rather
 * than a resolved promise saves a promise, a microtask and their garbage at each step, and
 * only a cache miss pays for the asynchronous road. `await` accepts either.
 */
export type MaybePromise<T> = T | Promise<T>;

export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return value instanceof Promise;
}

/** `next(value)`, now when `value` is here, once it is otherwise; a synchronous throw stays synchronous. */
export function andThen<T, U>(value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return isPromise(value) ? value.then(next) : next(value);
}
