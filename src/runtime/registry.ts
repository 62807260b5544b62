/** What a registry can hold: something that says when it has stopped. */
export interface Stoppable {
  /** Calls `listener` once, synchronously, when the instance stops. */
  onStop: (listener: () => void) => void
}

export type Registration<T> =
  | { status: 'registered', instance: T }
  /** The name was taken: `instance` is the one already running under it. */
  | { status: 'already_started', instance: T }

/**
 * Unique names for running instances (`room_server:<roomId>`), like an Elixir Registry with
 * unique keys: one instance per name, found by name, forgotten as soon as it stops.
 */
export class Registry<T extends Stoppable = Stoppable> {
  readonly #entries = new Map<string, T>()

  register (name: string, instance: T): Registration<T> {
    const existing = this.#entries.get(name)
    if (existing) return { status: 'already_started', instance: existing }
    this.#entries.set(name, instance)
    instance.onStop(() => {
      if (this.#entries.get(name) === instance) this.#entries.delete(name)
    })
    return { status: 'registered', instance }
  }

  lookup (name: string): T | undefined {
    return this.#entries.get(name)
  }

  /** Registered names, in registration order. */
  names (): string[] {
    return [...this.#entries.keys()]
  }

  get size (): number {
    return this.#entries.size
  }
}
