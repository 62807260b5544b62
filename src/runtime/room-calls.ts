import type { Components, EntityMap } from '../shared/world.ts'
import type { Clock } from './clock.ts'
import type { Logger } from './logger.ts'
import type { PubSub } from './pubsub.ts'

/** What only the process running a room knows: the world with its unwritten diffs, users' last poses. */
export interface OwnerAnswers {
  entities: () => Promise<EntityMap>
  resumeComponents: (userId: string) => Promise<Components>
}

export type OwnerMethod = keyof OwnerAnswers

interface Request { id: number, from: string, method: OwnerMethod, args: string[] }
interface Reply { id: number, ok: boolean, result?: unknown, error?: string }

const callTopic = (roomId: string): string => `room_calls:${roomId}`
const replyTopic = (processId: string): string => `room_replies:${processId}`

export interface RoomCallsOptions {
  pubsub: PubSub
  /** Unique among the processes sharing the pubsub. */
  processId: string
  clock: Clock
  /** How long a call waits for the owner (which may have just died). */
  timeoutMs: number
  logger: Logger
}

/**
 * Requests from processes serving a room's sockets to the process running it, over the
 * pubsub. A caller subscribed to `room:<id>` before calling `entities` gets every diff emitted
 * after the answer was computed (see RedisPubSub's ordering), so answer plus diffs is the world.
 */
export class RoomCalls {
  readonly #o: RoomCallsOptions
  readonly #pending = new Map<number, { resolve: (value: unknown) => void, reject: (err: Error) => void, timer: unknown }>()
  #nextId = 0
  #stopReplies: (() => void) | null = null

  constructor (options: RoomCallsOptions) {
    this.#o = options
  }

  /** Answers calls for a room run here; returns the function that stops answering. */
  serve (roomId: string, answers: OwnerAnswers): () => void {
    return this.#o.pubsub.subscribe(callTopic(roomId), async (message) => {
      const request = message as Request
      if (typeof request?.id !== 'number' || typeof request.from !== 'string' || !(request.method in answers) || !Array.isArray(request.args)) {
        this.#o.logger.warn({ roomId }, 'ignoring a malformed room call')
        return
      }
      let reply: Reply
      try {
        const answer = request.method === 'entities' ? answers.entities() : answers.resumeComponents(String(request.args[0]))
        reply = { id: request.id, ok: true, result: await answer }
      } catch (err) {
        reply = { id: request.id, ok: false, error: (err as Error).message }
      }
      await this.#o.pubsub.broadcast(replyTopic(request.from), reply)
    })
  }

  /** Asks the room's owner; rejects when it answers with an error or not within the timeout. */
  async call (roomId: string, method: OwnerMethod, ...args: string[]): Promise<unknown> {
    this.#stopReplies ??= this.#o.pubsub.subscribe(replyTopic(this.#o.processId), (message) => this.#settle(message as Reply))
    const id = ++this.#nextId
    const answered = new Promise<unknown>((resolve, reject) => {
      const timer = this.#o.clock.setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`room ${roomId}: no answer to ${method} within ${this.#o.timeoutMs} ms`))
      }, this.#o.timeoutMs)
      this.#pending.set(id, { resolve, reject, timer })
    })
    const request: Request = { id, from: this.#o.processId, method, args }
    try {
      await this.#o.pubsub.broadcast(callTopic(roomId), request)
    } catch (err) {
      this.#drop(id)
      throw err
    }
    return await answered
  }

  /** Fails the calls still waiting and stops listening for answers. */
  close (): void {
    for (const id of [...this.#pending.keys()]) this.#drop(id)?.reject(new Error('room calls closed'))
    this.#stopReplies?.()
    this.#stopReplies = null
  }

  #settle (reply: Reply): void {
    const pending = this.#drop(reply?.id)
    if (!pending) return
    if (reply.ok) pending.resolve(reply.result)
    else pending.reject(new Error(`the room's owner failed: ${String(reply.error)}`))
  }

  #drop (id: number): { resolve: (value: unknown) => void, reject: (err: Error) => void } | undefined {
    const pending = this.#pending.get(id)
    if (!pending) return undefined
    this.#pending.delete(id)
    this.#o.clock.clearTimeout(pending.timer)
    return pending
  }
}
