/**
 * Move→seen accounting for one load generator process. Senders record when each move (seq)
 * left; receivers report the (sender, seq) tags they find in what the target delivers. Only
 * moves sent inside the measuring window count; a window is settled a grace period after it
 * ends, so late arrivals are still counted.
 *
 * - seen: (receiver, move) pairs where the receiver got that exact move; its latency is recorded.
 * - skipped: moves a receiver never got because a newer one of the same sender arrived first
 *   (expected from a server that folds moves into one diff per patch; loss for a relay).
 * - lost: moves a receiver had neither seen nor been overtaken by a newer one at settling time,
 *   i.e. the sender's stream to that receiver stalled or broke.
 *
 * Only observers receive into the accounting: every user gets all its room's traffic, but the
 * generator may decode and time what only some of them get, to stay cheap next to the server.
 */
import hdr from 'hdr-histogram-js'

/** Send times kept per sender: 4096 moves, 200 s at 20 Hz. */
const RING = 4096

export interface SenderSlot {
  /** Index in its room, for receivers' per-sender arrays. */
  roomPos: number
  room: number
  sentAt: Float64Array
  sentSeq: Int32Array
  seenAny: Uint8Array
  windowFirst: number
  windowLast: number
}

export interface ReceiverSlot {
  room: number
  /** Latest seq seen per room position (-1: none). */
  lastSeen: Int32Array
}

export interface WindowStats {
  seconds: number
  /** Moves sent in the window. */
  offered: number
  /** Distinct moves of the window that reached at least one peer. */
  delivered: number
  /** (receiver, move) pairs expected: each move times the observers among the sender's peers. */
  expectedPairs: number
  seenPairs: number
  skippedPairs: number
  lostPairs: number
  /** Frames carrying poses (entities_diff, state patches, relayed moves, floor diffs). */
  diffFrames: number
  /** Payload bytes of every frame received. */
  bytes: number
  latencyMs: { p50: number, p90: number, p99: number, max: number, mean: number, count: number }
}

export class Tracker {
  readonly #senders: SenderSlot[] = []
  readonly #receivers: ReceiverSlot[] = []
  readonly #rooms: number[][] = []
  readonly #histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 })
  #t0 = Infinity
  #t1 = -Infinity
  #measuring = false
  #seenPairs = 0
  #skippedPairs = 0
  #delivered = 0
  #diffFrames = 0
  #bytes = 0

  /** Registers user `index` (a dense integer) as the next member of `room`; an observer also receives. */
  addUser (index: number, room: number, roomSize: number, observer = true): void {
    const members = (this.#rooms[room] ??= [])
    const roomPos = members.length
    if (roomPos >= roomSize) throw new Error(`room ${room} is full`)
    members.push(index)
    this.#senders[index] = {
      roomPos,
      room,
      sentAt: new Float64Array(RING),
      sentSeq: new Int32Array(RING).fill(-1),
      seenAny: new Uint8Array(RING),
      windowFirst: -1,
      windowLast: -1
    }
    if (observer) this.#receivers[index] = { room, lastSeen: new Int32Array(roomSize).fill(-1) }
  }

  /** User `index` sent move `seq` at `now` (performance.now()). */
  sent (index: number, seq: number, now: number): void {
    const s = this.#senders[index]
    const slot = seq % RING
    s.sentAt[slot] = now
    s.sentSeq[slot] = seq
    s.seenAny[slot] = 0
    if (now >= this.#t0 && now <= this.#t1) {
      if (s.windowFirst < 0) s.windowFirst = seq
      s.windowLast = seq
    }
  }

  /** Receiver `index` got the pose of `sender` tagged `seq` at `now`. */
  seen (index: number, sender: number, seq: number, now: number): void {
    if (sender === index) return
    const s = this.#senders[sender]
    const r = this.#receivers[index]
    if (s === undefined || r === undefined || s.room !== r.room) return
    const last = r.lastSeen[s.roomPos]
    if (seq <= last) return
    r.lastSeen[s.roomPos] = seq
    const slot = seq % RING
    if (s.sentSeq[slot] !== seq) return
    const sentAt = s.sentAt[slot]
    if (sentAt < this.#t0 || sentAt > this.#t1) return
    if (last >= 0 && s.windowFirst >= 0) this.#skippedPairs += Math.max(0, Math.min(seq - last - 1, seq - s.windowFirst))
    this.#seenPairs++
    this.#histogram.recordValue(Math.max(1, Math.round((now - sentAt) * 1000)))
    if (s.seenAny[slot] === 0) {
      s.seenAny[slot] = 1
      this.#delivered++
    }
  }

  /** A frame stamped by the server at `stampMs` (epoch ms) arrived at `nowEpochMs` (the floor target). */
  stamped (stampMs: number, nowEpochMs: number): void {
    if (!this.#measuring) return
    this.#histogram.recordValue(Math.max(1, Math.round((nowEpochMs - stampMs) * 1000)))
  }

  /** Any frame received; `diff` when it carries poses. */
  frame (bytes: number, diff: boolean): void {
    if (!this.#measuring) return
    this.#bytes += bytes
    if (diff) this.#diffFrames++
  }

  /** Starts a window of `ms` from now. */
  begin (ms: number): void {
    const now = performance.now()
    this.#t0 = now
    this.#t1 = now + ms
    this.#measuring = true
    this.#histogram.reset()
    this.#seenPairs = this.#skippedPairs = this.#delivered = this.#diffFrames = this.#bytes = 0
    for (const s of this.#senders) if (s) s.windowFirst = s.windowLast = -1
  }

  /** Frames arriving after the window's end no longer count toward rates. */
  endFrames (): void {
    this.#measuring = false
  }

  /** Settles the window: call a grace period after it ended. */
  settle (): WindowStats {
    this.#measuring = false
    let offered = 0
    let expectedPairs = 0
    let lostPairs = 0
    for (const members of this.#rooms) {
      if (!members) continue
      for (const sender of members) {
        const s = this.#senders[sender]
        if (s.windowLast < 0) continue
        const moves = s.windowLast - s.windowFirst + 1
        offered += moves
        for (const receiver of members) {
          const r = this.#receivers[receiver]
          if (receiver === sender || r === undefined) continue
          expectedPairs += moves
          const last = r.lastSeen[s.roomPos]
          lostPairs += Math.max(0, s.windowLast - Math.max(last, s.windowFirst - 1))
        }
      }
    }
    const h = this.#histogram
    const count = h.totalCount
    const ms = (µs: number): number => Math.round(µs / 10) / 100
    const stats: WindowStats = {
      seconds: (this.#t1 - this.#t0) / 1000,
      offered,
      delivered: this.#delivered,
      expectedPairs,
      seenPairs: this.#seenPairs,
      skippedPairs: this.#skippedPairs,
      lostPairs,
      diffFrames: this.#diffFrames,
      bytes: this.#bytes,
      latencyMs: count === 0
        ? { p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN, count: 0 }
        : {
            p50: ms(h.getValueAtPercentile(50)),
            p90: ms(h.getValueAtPercentile(90)),
            p99: ms(h.getValueAtPercentile(99)),
            max: ms(h.maxValue),
            mean: ms(h.mean),
            count
          }
    }
    this.#t0 = Infinity
    this.#t1 = -Infinity
    return stats
  }
}
