import { randomUUID } from 'node:crypto'

/**
 * What a poll is answered, in the `status` field phoenix.js reads (the HTTP status is 200, as
 * in Phoenix): 200 with messages; 204 when the window passed without any; 410 "gone" for a
 * session that ended (the client reconnects); 403 for one closed for misbehaving.
 */
export type PollAnswer =
  | { status: 200, messages: string[] }
  | { status: 204 }
  | { status: 403 | 410 }

/** A poll waiting for frames; cancel() when its request went away before the answer. */
export interface Poll {
  answer: Promise<PollAnswer>
  cancel: () => void
}

/**
 * The server end of one LongPoll connection (Phoenix.Transports.LongPoll.Server): frames the
 * socket sends wait in a buffer until the client polls; one poll waits at most `windowMs`.
 * A client that has no poll waiting for `windowMs` has gone away: `onIdle` is called.
 */
export class LongPollSession {
  readonly id = randomUUID()
  #buffer: string[] = []
  #waiting: ((answer: PollAnswer) => void) | null = null
  #windowTimer: NodeJS.Timeout | null = null
  #flushing = false
  #ended: PollAnswer | null = null
  #idleTimer: NodeJS.Timeout | null = null

  constructor (private readonly windowMs: number, private readonly onIdle: () => void) {
    this.#armIdle()
  }

  /** Queues a frame for the client; one waiting poll takes every frame of the same tick. */
  push (frame: string): void {
    if (this.#ended !== null) return
    this.#buffer.push(frame)
    if (this.#waiting !== null && !this.#flushing) {
      this.#flushing = true
      setImmediate(() => {
        this.#flushing = false
        if (this.#buffer.length > 0) this.#answer(this.#take())
      })
    }
  }

  /** Answers with what is buffered, or waits for frames up to the window. A newer poll answers an older one 204. */
  poll (): Poll {
    if (this.#ended !== null) return { answer: Promise.resolve(this.#ended), cancel: () => {} }
    if (this.#buffer.length > 0) {
      this.#armIdle()
      return { answer: Promise.resolve(this.#take()), cancel: () => {} }
    }
    this.#answer({ status: 204 })
    this.#disarmIdle()
    let resolve!: (answer: PollAnswer) => void
    const answer = new Promise<PollAnswer>(r => { resolve = r })
    this.#waiting = resolve
    this.#windowTimer = setTimeout(() => this.#answer({ status: 204 }), this.windowMs)
    return {
      answer,
      cancel: () => {
        if (this.#waiting !== resolve) return
        this.#waiting = null
        this.#clearWindow()
        this.#armIdle()
      }
    }
  }

  /** The session is over: a waiting poll and every later one get `status`. */
  end (status: 403 | 410): void {
    if (this.#ended !== null) return
    this.#ended = { status }
    this.#buffer = []
    this.#answer(this.#ended)
    this.#disarmIdle()
  }

  #take (): PollAnswer {
    const messages = this.#buffer
    this.#buffer = []
    return { status: 200, messages }
  }

  #answer (answer: PollAnswer): void {
    const waiting = this.#waiting
    if (waiting === null) return
    this.#waiting = null
    this.#clearWindow()
    this.#armIdle()
    waiting(answer)
  }

  #armIdle (): void {
    this.#disarmIdle()
    if (this.#ended === null) this.#idleTimer = setTimeout(this.onIdle, this.windowMs)
  }

  #disarmIdle (): void {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer)
    this.#idleTimer = null
  }

  #clearWindow (): void {
    if (this.#windowTimer !== null) clearTimeout(this.#windowTimer)
    this.#windowTimer = null
  }
}
