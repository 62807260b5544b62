// What crosses the pubsub: data a JSON round trip would leave as it is, frozen. Inside one
// process every subscriber is handed the publisher's value itself, so the check and the freeze
// are what keep the in-memory and the Redis pubsub alike: nothing can depend on a copy or on a
// value JSON would change, and no subscriber can change what another one sees.

/**
 * Checks that `value` is JSON data (plain objects and arrays, strings, finite numbers, booleans,
 * null; an object property may be undefined, which reads as absent across processes) and freezes
 * it and everything in it. Throws a TypeError naming the first part that is not.
 */
export function freezeJsonData<T> (value: T): T {
  check(value, '$', new Set())
  return value
}

function check (value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      if (Number.isFinite(value)) return
      throw new TypeError(`not JSON data: ${path} is ${value}`)
    case 'object':
      break
    default:
      throw new TypeError(`not JSON data: ${path} is ${typeof value}`)
  }
  if (value === null) return
  if (ancestors.has(value)) throw new TypeError(`not JSON data: ${path} is circular`)
  ancestors.add(value)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) check(value[i], `${path}[${i}]`, ancestors)
  } else {
    const proto = Object.getPrototypeOf(value) as unknown
    if (proto !== Object.prototype && proto !== null) throw new TypeError(`not JSON data: ${path} is a ${(value as object).constructor?.name ?? 'non-plain object'}`)
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key]
      if (child !== undefined) check(child, `${path}.${key}`, ancestors)
    }
  }
  ancestors.delete(value)
  Object.freeze(value)
}
