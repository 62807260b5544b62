/**
 * The simulated users' poses. Numbers are rounded as the real client rounds them
 * (src/client/pose.ts: millimetres, 4 decimals for quaternions), so frames have realistic sizes.
 *
 * Every move is tagged inside the pose itself, which every target passes through unchanged:
 * the left hand's x is the sender's move number (seq) and its y the sender's index. With the
 * send time of each (sender, seq) kept by the generator, a receiver knows how old a pose is.
 */

export type Packed = [number, number, number, number, number, number, number]

export interface MovePose {
  head: Packed
  left: Packed
  right: Packed
}

/** Seq values are bounded like every pose number (±100000); a user moving at 20 Hz reaches that after 83 minutes. */
export const MAX_SEQ = 99_999

const r3 = (n: number): number => Math.round(n * 1000) / 1000
const r4 = (n: number): number => Math.round(n * 10000) / 10000

/** Where one user stands and how it sways. */
export class Mover {
  readonly #x: number
  readonly #z: number
  readonly #phase: number
  readonly index: number

  constructor (index: number, random: () => number = Math.random) {
    this.index = index
    this.#x = r3(random() * 20 - 10)
    this.#z = r3(random() * 20 - 10)
    this.#phase = random() * Math.PI * 2
  }

  /** The pose at `nowMs` carrying `seq`. */
  pose (seq: number, nowMs: number): MovePose {
    const t = nowMs / 1000 + this.#phase
    const yaw = 0.6 * Math.sin(t * 0.7)
    const qy = r4(Math.sin(yaw / 2))
    const qw = r4(Math.cos(yaw / 2))
    const x = this.#x + 0.05 * Math.sin(t)
    const z = this.#z + 0.05 * Math.cos(t)
    return {
      head: [r3(x), r3(1.6 + 0.02 * Math.sin(2 * t)), r3(z), 0, qy, 0, qw],
      left: [seq, this.index, r3(z + 0.2), r4(0.1 * Math.sin(t)), qy, 0, qw],
      right: [r3(x + 0.25), r3(1.2 + 0.03 * Math.cos(t)), r3(z + 0.2), 0, qy, r4(0.1 * Math.cos(t)), qw]
    }
  }
}

/** The tag of a pose's left hand, or null when it carries none (e.g. an avatar that has not moved yet). */
export function tagOf (left: unknown): { seq: number, sender: number } | null {
  if (!Array.isArray(left) || left.length < 2) return null
  const seq = left[0]
  const sender = left[1]
  if (typeof seq !== 'number' || typeof sender !== 'number' || seq < 0 || sender < 0) return null
  return { seq, sender }
}
