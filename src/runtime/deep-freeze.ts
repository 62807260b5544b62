// Inside one process, values are shared between the parts of the runtime, not copied: a frozen
// value is one that no receiver can change under another.

/** Freezes a JSON-like value and everything in it; returns it. */
export function deepFreeze<T> (value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key])
  return Object.freeze(value)
}
