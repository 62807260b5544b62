import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type Connections, identify } from './connections.ts'
import { LongPollSession, type PollAnswer } from './longpoll-session.ts'
import { SessionTokens } from './longpoll-token.ts'
import type { ChannelRouter } from './router.ts'
import { VSN } from './serializer.ts'
import { POLICY_VIOLATION, PhoenixSocket } from './socket.ts'

export interface LongPollOptions {
  /** Where phoenix.js polls: its endpoint with "/longpoll" appended, e.g. /socket/longpoll. */
  path: string
  secretKeyBase: string
  router: ChannelRouter
  /** Shared with the WebSocket transport: the per-address cap counts both. */
  connections: Connections
  /** Names this process in session tokens; a token of another process is "gone" here. */
  processId: string
  /** How long one poll waits for frames (Phoenix's window_ms, 10 s); a client with no poll waiting this long is gone. */
  windowMs: number
  /** Largest POST body, so the largest batch of frames; larger bodies end the session like a 1009. */
  maxBodyBytes: number
  heartbeatTimeoutMs: number
  maxChannelsPerSocket: number
  protocolErrors?: { max: number, windowMs: number }
  /** Clock of the protocol error window (tests). */
  now?: () => number
}

type Status = PollAnswer['status'] | 413

/** The body phoenix.js reads; Phoenix answers HTTP 200 and puts the status in it. */
function answer (reply: FastifyReply, body: { status: Status, token?: string, messages?: string[] }, http = 200): FastifyReply {
  return reply.code(http).header('cache-control', 'no-store').send(body)
}

// Refused before any session exists: phoenix.js closes on 403 and reconnects with its backoff.
function refuse (reply: FastifyReply, http: number, code: string, message: string): FastifyReply {
  return reply.code(http).header('cache-control', 'no-store').send({ status: 403, code, message })
}

function queryOf (request: FastifyRequest): Record<string, unknown> {
  return request.query as Record<string, unknown>
}

// phoenix.js 1.8 sends its authToken option as this header; the query parameter is the usual way.
function userTokenOf (request: FastifyRequest): string | null {
  const header = request.headers['x-phoenix-authtoken']
  if (typeof header === 'string' && header !== '') return header
  const token = queryOf(request)._user_token
  return typeof token === 'string' ? token : null
}

/**
 * Phoenix Channels v2 over HTTP long polling, as phoenix.js's LongPoll speaks it (its fallback
 * when WebSockets are blocked): GET without a session token opens a session (`{status: 410,
 * token}`), GET with one waits for frames, POST sends frames (one per line, ndjson). Each
 * session drives a PhoenixSocket exactly like a WebSocket does.
 *
 * Sessions live in this process. A token signed by another process, or naming a session that
 * ended, is answered like a gone session (410; a GET gets a fresh session, as in Phoenix), so
 * several processes need sticky sessions for LongPoll clients.
 */
export async function longPollTransport (fastify: FastifyInstance, opts: LongPollOptions): Promise<void> {
  const { path, secretKeyBase, router, connections, processId, windowMs, maxBodyBytes } = opts
  const tokens = new SessionTokens(secretKeyBase)
  const sessions = new Map<string, { session: LongPollSession, socket: PhoenixSocket }>()
  const log = fastify.log.child({ transport: 'longpoll' })

  // Frames are text, one per line; nothing here should parse them as JSON documents.
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', { parseAs: 'string', bodyLimit: maxBodyBytes }, (_request, body, done) => done(null, body))

  const sessionOf = (request: FastifyRequest): { session: LongPollSession, socket: PhoenixSocket } | undefined => {
    const token = queryOf(request).token
    const ref = typeof token === 'string' ? tokens.verify(token) : null
    return ref?.processId === processId ? sessions.get(ref.sessionId) : undefined
  }

  const vsnOk = (request: FastifyRequest, reply: FastifyReply): boolean => {
    const { vsn } = queryOf(request)
    if (vsn === VSN) return true
    request.log.warn({ vsn }, 'refusing longpoll: unsupported Phoenix protocol version')
    refuse(reply, 400, 'XR_ERR_PHOENIX_UNSUPPORTED_VSN', `Unsupported Phoenix protocol version "${String(vsn)}"; this server speaks vsn=${VSN}`)
    return false
  }

  const open = (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (connections.full(request.ip)) {
      request.log.warn({ ip: request.ip }, 'refusing longpoll: too many connections from this address')
      return refuse(reply, 429, 'XR_ERR_PHOENIX_TOO_MANY_SOCKETS', `Too many connections from this address (at most ${connections.maxPerIp})`)
    }
    const { userId, username, admin } = identify(secretKeyBase, userTokenOf(request), request.log)
    const session = new LongPollSession(windowMs, () => { void socket.close(1000, 'longpoll client gone') })
    const socket: PhoenixSocket = new PhoenixSocket({
      userId,
      username,
      admin,
      router,
      heartbeatTimeoutMs: opts.heartbeatTimeoutMs,
      maxChannels: opts.maxChannelsPerSocket,
      protocolErrors: opts.protocolErrors,
      now: opts.now,
      log,
      send: frame => session.push(frame),
      close: (code) => {
        session.end(code === POLICY_VIOLATION ? 403 : 410)
        forget()
      }
    })
    const release = connections.add(socket, request.ip)
    const forget = (): void => {
      sessions.delete(session.id)
      release()
    }
    sessions.set(session.id, { session, socket })
    return answer(reply, { status: 410, token: tokens.sign({ processId, sessionId: session.id }), messages: [] })
  }

  // A body over the limit ends its session, as a WebSocket frame over the limit closes with 1009.
  fastify.setErrorHandler(async (err: Error & { code?: string, statusCode?: number }, request, reply) => {
    if (err.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') throw err
    await sessionOf(request)?.socket.close(1009, 'frame too large')
    return answer(reply, { status: 413 }, 413)
  })

  // Every poll would otherwise log two info lines; the sockets log for themselves.
  fastify.get(path, { logLevel: 'warn' }, async (request, reply) => {
    if (!vsnOk(request, reply)) return reply
    const found = sessionOf(request)
    if (found === undefined) return open(request, reply)
    found.socket.touch()
    const poll = found.session.poll()
    reply.raw.on('close', poll.cancel)
    const result = await poll.answer
    // Every answer to a poll carries the token back: phoenix.js takes the token of each answer.
    const token = queryOf(request).token as string
    if (result.status === 200) return answer(reply, { status: 200, token, messages: result.messages })
    if (result.status === 204) return answer(reply, { status: 204, token, messages: [] })
    return answer(reply, result)
  })

  fastify.post(path, { logLevel: 'warn' }, async (request, reply) => {
    if (!vsnOk(request, reply)) return reply
    const found = sessionOf(request)
    if (found === undefined) return answer(reply, { status: 410 })
    const body = typeof request.body === 'string' ? request.body : ''
    // phoenix.js batches frames as ndjson; an older or other client may send one frame.
    const frames = request.headers['content-type']?.startsWith('application/x-ndjson') === true ? body.split(/\r?\n/) : [body]
    for (const frame of frames) if (frame !== '') found.socket.handleText(frame)
    return answer(reply, { status: 200 })
  })
}
