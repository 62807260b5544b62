import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'

/**
 * The token naming a LongPoll session, as Phoenix signs `{:v1, endpoint_id, pid, topic}`: the
 * process that holds the session and the session's id, signed so that nobody can name a
 * session they were not given. `<payload>.<signature>`, both base64url.
 */
export interface SessionRef {
  /** The process holding the session (LongPoll sessions live in one process's memory). */
  processId: string
  sessionId: string
}

const SALT = 'longpoll session'

function key (secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, SALT, 'phoenix longpoll', 32))
}

export class SessionTokens {
  readonly #key: Buffer

  constructor (secretKeyBase: string) {
    this.#key = key(secretKeyBase)
  }

  sign (ref: SessionRef): string {
    const payload = Buffer.from(JSON.stringify({ p: ref.processId, s: ref.sessionId })).toString('base64url')
    return `${payload}.${this.#mac(payload)}`
  }

  /** The session a token names, or null for anything not signed here (tokens are untrusted input). */
  verify (token: string): SessionRef | null {
    const [payload, signature, extra] = token.split('.')
    if (payload === undefined || signature === undefined || extra !== undefined) return null
    const expected = Buffer.from(this.#mac(payload))
    const given = Buffer.from(signature)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
    try {
      const { p, s } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
      return typeof p === 'string' && typeof s === 'string' ? { processId: p, sessionId: s } : null
    } catch {
      return null
    }
  }

  #mac (payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url')
  }
}
