/** What the room list shows of a room. */
export interface RoomSummary {
  id: string
  name: string
  description: string
  persistent: boolean
}

/** One change to the public room list, as sent to `/rooms/events` subscribers. */
export type DirectoryEvent =
  | { type: 'occupancy', room_id: string, count: number }
  | { type: 'room_created' | 'room_updated', room: RoomSummary }
  | { type: 'room_deleted', room_id: string }

export type DirectoryListener = (event: DirectoryEvent) => void

export interface RoomDirectoryOptions {
  /** Called when a listener throws; the other listeners still get the event. */
  onListenerError?: (err: unknown, event: DirectoryEvent) => void
}

/**
 * Who is where, and which rooms come and go, for the live room list. In memory, per process:
 * the socket layer reports occupancy with `setOccupancy`, the page routes publish room changes.
 */
export class RoomDirectory {
  private readonly counts = new Map<string, number>()
  private readonly listeners = new Set<DirectoryListener>()
  private readonly onListenerError: NonNullable<RoomDirectoryOptions['onListenerError']>

  constructor (opts: RoomDirectoryOptions = {}) {
    this.onListenerError = opts.onListenerError ?? (() => {})
  }

  /** Records how many people are in the room now; publishes an `occupancy` event when it changes. */
  setOccupancy (roomId: string, count: number): void {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new TypeError(`occupancy must be a non-negative integer, got ${String(count)}`)
    }
    if (this.occupancy(roomId) === count) return
    if (count === 0) this.counts.delete(roomId)
    else this.counts.set(roomId, count)
    this.publish({ type: 'occupancy', room_id: roomId, count })
  }

  /** People in the room now; 0 for a room nobody reported. */
  occupancy (roomId: string): number {
    return this.counts.get(roomId) ?? 0
  }

  /**
   * Sends the event to every listener. A `room_deleted` also forgets the room's occupancy.
   * Listeners get a copy, so none can change what the others see.
   */
  publish (event: DirectoryEvent): void {
    if (event.type === 'room_deleted') this.counts.delete(event.room_id)
    for (const listener of [...this.listeners]) {
      try {
        listener(structuredClone(event))
      } catch (err) {
        this.onListenerError(err, event)
      }
    }
  }

  /** Adds a listener; call the returned function to remove it. */
  subscribe (listener: DirectoryListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }
}
