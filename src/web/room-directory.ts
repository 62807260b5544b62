import type { PubSub } from '../runtime/pubsub.ts'

/**
 * What the room list shows of a room, and the settings people in it live by: the realtime side
 * applies a `room_updated` at once to the people already in the room.
 */
export interface RoomSummary {
  id: string
  name: string
  description: string
  persistent: boolean
  visibility: 'public' | 'unlisted'
  capacity: number
  locked: boolean
  allow_grab: boolean
  allow_chat: boolean
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
  /**
   * Shared with the other processes serving the rooms (the runtime's Redis pubsub): room
   * changes announced in any of them reach the listeners of all. Unset: this process only.
   */
  pubsub?: PubSub
  /** Called when an announcement could not be shared (it still reaches this process). */
  onShareError?: (err: unknown, event: DirectoryEvent) => void
  /** Rooms that are unlisted when the directory starts; later changes come as events. */
  unlisted?: Iterable<string>
}

const CHANGES_TOPIC = 'room_directory'
const CHANGE_TYPES = new Set(['room_created', 'room_updated', 'room_deleted'])

const isRoomChange = (message: unknown): message is DirectoryEvent =>
  typeof message === 'object' && message !== null && CHANGE_TYPES.has((message as { type?: unknown }).type as string)

/**
 * Who is where, and which rooms come and go, for the live room list. The socket layer reports
 * occupancy with `setOccupancy` (each process counts from the shared presence itself); the page
 * routes `announce` room changes, which go to every process when a `pubsub` is shared.
 */
export class RoomDirectory {
  private readonly counts = new Map<string, number>()
  private readonly listeners = new Set<DirectoryListener>()
  private readonly listedListeners = new Set<DirectoryListener>()
  private readonly unlisted: Set<string>
  private readonly onListenerError: NonNullable<RoomDirectoryOptions['onListenerError']>
  private readonly onShareError: NonNullable<RoomDirectoryOptions['onShareError']>
  private readonly pubsub: PubSub | undefined
  private readonly unsubscribe: () => void

  constructor (opts: RoomDirectoryOptions = {}) {
    this.onListenerError = opts.onListenerError ?? (() => {})
    this.onShareError = opts.onShareError ?? (() => {})
    this.pubsub = opts.pubsub
    this.unlisted = new Set(opts.unlisted ?? [])
    this.unsubscribe = this.pubsub?.subscribe(CHANGES_TOPIC, (message) => {
      if (isRoomChange(message)) this.publish(message)
    }) ?? (() => {})
  }

  /**
   * A room was created, changed or deleted here: tells this process's listeners and, with a
   * shared pubsub, every other process's (this one hears it back from the pubsub). Never
   * rejects: the change itself is done, and a lost announcement only leaves lists stale.
   */
  async announce (event: DirectoryEvent): Promise<void> {
    if (!this.pubsub) return this.publish(event)
    try {
      await this.pubsub.broadcast(CHANGES_TOPIC, event)
    } catch (err) {
      this.onShareError(err, event)
      this.publish(event)
    }
  }

  /** Stops hearing other processes' announcements. */
  close (): void {
    this.unsubscribe()
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

  /** Ids of the rooms with people in them, most people first. */
  occupiedRoomIds (): string[] {
    return [...this.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([id]) => id)
  }

  /** Counts these rooms as unlisted (read from the database once it answers). */
  addUnlisted (roomIds: Iterable<string>): void {
    for (const id of roomIds) this.unlisted.add(id)
  }

  /** Whether the room may appear on the public list (it is not unlisted, as far as announced). */
  isListed (roomId: string): boolean {
    return !this.unlisted.has(roomId)
  }

  /**
   * Sends the event to every listener. A `room_deleted` also forgets the room's occupancy.
   * Listeners get a copy, so none can change what the others see.
   */
  publish (event: DirectoryEvent): void {
    if (event.type === 'room_deleted') this.counts.delete(event.room_id)
    const listed = this.listedView(event)
    this.deliver(this.listeners, event)
    if (listed) this.deliver(this.listedListeners, listed)
  }

  /** Adds a listener of every event, unlisted rooms' included; call the returned function to remove it. */
  subscribe (listener: DirectoryListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /**
   * Adds a listener of the public list's events: nothing about unlisted rooms, and a room that
   * turns unlisted comes as `room_deleted` (a room that turns public as `room_updated`).
   */
  subscribeListed (listener: DirectoryListener): () => void {
    this.listedListeners.add(listener)
    return () => { this.listedListeners.delete(listener) }
  }

  // Also keeps track of which rooms are unlisted.
  private listedView (event: DirectoryEvent): DirectoryEvent | null {
    if (event.type === 'occupancy') return this.isListed(event.room_id) ? event : null
    const id = event.type === 'room_deleted' ? event.room_id : event.room.id
    const wasListed = this.isListed(id)
    if (event.type === 'room_deleted') {
      this.unlisted.delete(id)
      return wasListed ? event : null
    }
    if (event.room.visibility === 'public') {
      this.unlisted.delete(id)
      return event
    }
    this.unlisted.add(id)
    return wasListed && event.type === 'room_updated' ? { type: 'room_deleted', room_id: id } : null
  }

  private deliver (listeners: Set<DirectoryListener>, event: DirectoryEvent): void {
    for (const listener of [...listeners]) {
      try {
        listener(structuredClone(event))
      } catch (err) {
        this.onListenerError(err, event)
      }
    }
  }
}
