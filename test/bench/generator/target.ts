import type { MovePose } from '../lib/pose.ts'
import type { Tracker } from './tracker.ts'

/** The four things the bench compares. */
export const TARGETS = ['xr-rooms', 'colyseus', 'ws-relay', 'ws-floor'] as const
export type TargetName = typeof TARGETS[number]

/** Where a target server listens, as its process reports it. */
export interface TargetAddress {
  name: TargetName
  port: number
  /** Signs user tokens (xr-rooms only). */
  secret?: string
}

export interface ConnectOptions {
  /** Dense user index: tags its moves and keys the tracker. */
  index: number
  roomId: string
  tracker: Tracker
  /**
   * Decode what arrives and report the poses' tags to the tracker. Otherwise only count frames
   * and bytes (the user still receives everything, as a real client would).
   */
  observe: boolean
}

/** One simulated user's connection, joined to its room. */
export interface TargetClient {
  move: (pose: MovePose) => void
  /** Keeps the connection alive where the protocol wants it (Phoenix: every 30 s). */
  heartbeat: () => void
  close: () => void
}

/** How a target is spoken to: connect and join, move, read what comes back into the tracker. */
export interface TargetAdapter {
  readonly name: TargetName
  /** Resolves once the user has joined and received the room's initial state. */
  connect: (options: ConnectOptions) => Promise<TargetClient>
  /**
   * Join benchmark: ms from the join request to the complete initial state of `roomId`, and
   * that state's size in bytes. Optional: only targets that can hold entities implement it.
   */
  timeJoin?: (roomId: string, index: number) => Promise<{ ms: number, bytes: number, entities: number }>
}

/** A distinct client address per 50 users, sent as X-Forwarded-For, so per-address connection limits do not refuse the load. */
export const forwardedFor = (index: number): string => `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${Math.floor((index & 255) / 50)}`

/** Rejects after `ms` with `what` in the message. */
export function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms) })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
