import type { FastifyBaseLogger } from 'fastify'
import type { PhoenixSocket } from './socket.ts'
import { verifyUserToken } from './token.ts'

/**
 * The open connections of both transports (WebSocket and LongPoll), so the per-address cap
 * and the live count see every one of them whichever way it came in.
 */
export class Connections {
  /** Every open connection; `sockets.size` is the live count. */
  readonly sockets = new Set<PhoenixSocket>()
  readonly #perIp = new Map<string, number>()

  constructor (readonly maxPerIp: number) {}

  /** True when `ip` already holds as many connections as one address may. */
  full (ip: string): boolean {
    return (this.#perIp.get(ip) ?? 0) >= this.maxPerIp
  }

  /** Counts `socket` against `ip`; the returned function releases it (once, however often called). */
  add (socket: PhoenixSocket, ip: string): () => void {
    this.sockets.add(socket)
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      const left = (this.#perIp.get(ip) ?? 1) - 1
      if (left === 0) this.#perIp.delete(ip)
      else this.#perIp.set(ip, left)
      this.sockets.delete(socket)
    }
  }
}

/** Who a connection is, from its user token. */
export interface Identity {
  userId: string | null
  username: string | null
  /** The token was signed for a session signed in as an admin. */
  admin: boolean
}

const ANONYMOUS: Identity = Object.freeze({ userId: null, username: null, admin: false })

/** Who a connection's user token names; an absent or rejected token connects anonymously. */
export function identify (secretKeyBase: string, token: string | null, log: FastifyBaseLogger): Identity {
  if (token === null) return ANONYMOUS
  const verified = verifyUserToken(secretKeyBase, token)
  if (verified.ok) return { userId: verified.userId, username: verified.username ?? null, admin: verified.admin === true }
  log.debug({ reason: verified.reason }, 'connecting anonymously: user token rejected')
  return ANONYMOUS
}
