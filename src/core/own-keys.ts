/**
 * Sets `key` as an own property of a record keyed by user input. Plain assignment of `__proto__`
 * would replace the record's prototype instead of adding a key, and a later lookup of `valueOf`
 * or `toString` would find Object.prototype's functions: records keyed by what users write use
 * this to write and `Object.hasOwn` to read.
 */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
