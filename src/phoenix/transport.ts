import websocket from '@fastify/websocket'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { WebSocket } from 'ws'
import { randomUUID } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import type { ChannelRoute } from './channel.ts'
import { Connections, identify } from './connections.ts'
import { TooManySocketsError, UnsupportedVsnError } from './errors.ts'
import { longPollTransport } from './longpoll.ts'
import { ChannelRouter } from './router.ts'
import { VSN } from './serializer.ts'
import { DEFAULT_PROTOCOL_ERRORS, PhoenixSocket } from './socket.ts'

export interface PhoenixTransportOptions {
  /** The phoenix client appends "/websocket" to the endpoint it is given, so clients use "/socket". */
  path?: string
  /** Where LongPoll clients poll (phoenix.js appends "/longpoll"); false serves WebSocket only. */
  longPollPath?: string | false
  /** How long one long poll waits for frames; a LongPoll client with no poll waiting this long is gone. */
  longPollWindowMs?: number
  /** Verifies user tokens (see token.ts). */
  secretKeyBase: string
  /** First matching pattern wins. */
  channels: ChannelRoute[]
  /** Larger frames close that one connection with 1009. */
  maxFrameBytes?: number
  /** A connection that sends nothing for this long is closed; the phoenix client heartbeats every 30 s. */
  heartbeatTimeoutMs?: number
  /** Topics one connection may join at once (default 10). */
  maxChannelsPerSocket?: number
  /** Open connections per client address, WebSocket and LongPoll together (default 100); more are refused with HTTP 429. */
  maxSocketsPerIp?: number
  /** A connection with more error answers than `max` within `windowMs` is closed with 1008 (default 20 in 10 s). */
  protocolErrors?: { max: number, windowMs: number }
  /** Clock of the protocol error window (tests). */
  now?: () => number
}

/** What the plugin exposes as `fastify.phoenix`. */
export interface PhoenixTransport {
  /** Every open connection, WebSocket and LongPoll; `sockets.size` is the live count. */
  readonly sockets: ReadonlySet<PhoenixSocket>
}

declare module 'fastify' {
  interface FastifyInstance {
    phoenix: PhoenixTransport
  }
}

/** How the phoenix client's `authToken` option travels: a Sec-WebSocket-Protocol entry next to "phoenix". */
const AUTH_TOKEN_PREFIX = 'base64url.bearer.phx.'
const SUBPROTOCOL = 'phoenix'

function validate (opts: PhoenixTransportOptions): Required<PhoenixTransportOptions> {
  const {
    path = '/socket/websocket', longPollPath = '/socket/longpoll', longPollWindowMs = 10000, secretKeyBase, channels,
    maxFrameBytes = 65536, heartbeatTimeoutMs = 60000, maxChannelsPerSocket = 10, maxSocketsPerIp = 100,
    protocolErrors = DEFAULT_PROTOCOL_ERRORS, now = Date.now
  } = opts
  if (typeof path !== 'string' || !path.startsWith('/')) throw new Error('phoenix-transport: path must start with "/"')
  if (typeof secretKeyBase !== 'string' || secretKeyBase === '') throw new Error('phoenix-transport: secretKeyBase is required')
  if (!Array.isArray(channels)) throw new Error('phoenix-transport: channels must be an array of {pattern, factory}')
  if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes <= 0) throw new Error('phoenix-transport: maxFrameBytes must be a positive integer')
  if (!Number.isFinite(heartbeatTimeoutMs) || heartbeatTimeoutMs <= 0) throw new Error('phoenix-transport: heartbeatTimeoutMs must be a positive number')
  if (!Number.isSafeInteger(maxChannelsPerSocket) || maxChannelsPerSocket <= 0) throw new Error('phoenix-transport: maxChannelsPerSocket must be a positive integer')
  if (!Number.isSafeInteger(maxSocketsPerIp) || maxSocketsPerIp <= 0) throw new Error('phoenix-transport: maxSocketsPerIp must be a positive integer')
  if (longPollPath !== false && (typeof longPollPath !== 'string' || !longPollPath.startsWith('/'))) throw new Error('phoenix-transport: longPollPath must start with "/" or be false')
  if (!Number.isFinite(longPollWindowMs) || longPollWindowMs <= 0) throw new Error('phoenix-transport: longPollWindowMs must be a positive number')
  if (!Number.isSafeInteger(protocolErrors?.max) || protocolErrors.max <= 0 || !Number.isFinite(protocolErrors.windowMs) || protocolErrors.windowMs <= 0) {
    throw new Error('phoenix-transport: protocolErrors must be {max: positive integer, windowMs: positive number}')
  }
  return { path, longPollPath, longPollWindowMs, secretKeyBase, channels, maxFrameBytes, heartbeatTimeoutMs, maxChannelsPerSocket, maxSocketsPerIp, protocolErrors, now }
}

// The authToken header wins over the `_user_token` query parameter, which ends up in access logs.
function tokenOf (request: FastifyRequest): string | null {
  const protocols = request.headers['sec-websocket-protocol']
  const entry = protocols?.split(',').map(p => p.trim()).find(p => p.startsWith(AUTH_TOKEN_PREFIX))
  if (entry !== undefined) {
    // Despite the prefix, the client encodes with btoa (standard alphabet, "=" stripped);
    // Node's base64 decoder reads both alphabets.
    const encoded = entry.slice(AUTH_TOKEN_PREFIX.length)
    return /^[A-Za-z0-9+/_-]+$/.test(encoded) ? Buffer.from(encoded, 'base64').toString('latin1') : null
  }
  const token = (request.query as Record<string, unknown>)._user_token
  return typeof token === 'string' ? token : null
}

async function phoenixTransport (fastify: FastifyInstance, opts: PhoenixTransportOptions): Promise<void> {
  const {
    path, longPollPath, longPollWindowMs, secretKeyBase, channels, maxFrameBytes, heartbeatTimeoutMs, maxChannelsPerSocket,
    maxSocketsPerIp, protocolErrors, now
  } = validate(opts)
  const router = new ChannelRouter(channels)
  const connections = new Connections(maxSocketsPerIp)
  const { sockets } = connections
  fastify.decorate('phoenix', { sockets })

  // Added before @fastify/websocket registers its own preClose, which closes clients without a code;
  // awaiting the channels' terminate lets them clean up before onClose hooks shut the app's services.
  fastify.addHook('preClose', async () => {
    await Promise.all([...sockets].map(socket => socket.close(1001, 'server shutting down')))
  })

  if (!fastify.hasDecorator('websocketServer')) {
    await fastify.register(websocket, {
      options: {
        maxPayload: maxFrameBytes,
        // Browsers fail the handshake unless one offered subprotocol is echoed; never echo the token entry.
        handleProtocols: (offered: Set<string>) => offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false
      },
      // ws reports a bad frame (too large, invalid UTF-8) after it started closing with the right
      // code; the plugin's default would destroy the TCP socket before that close frame is out.
      // Once a connection is a PhoenixSocket its own listener (below) takes these errors.
      errorHandler (err: Error, _socket: WebSocket, request: FastifyRequest) {
        request.log.debug({ err }, 'websocket error')
      }
    })
  }

  // Each upgrade's response, let go of once the connection is a WebSocket (see the handler).
  const upgrades = new WeakMap<FastifyRequest, ServerResponse>()

  fastify.get(path, {
    websocket: true,
    async preValidation (request, reply) {
      const { vsn } = request.query as Record<string, unknown>
      if (vsn !== VSN) {
        request.log.warn({ vsn }, 'refusing websocket: unsupported Phoenix protocol version')
        throw new UnsupportedVsnError(String(vsn), VSN)
      }
      if (connections.full(request.ip)) {
        request.log.warn({ ip: request.ip }, 'refusing websocket: too many connections from this address')
        throw new TooManySocketsError(maxSocketsPerIp)
      }
      upgrades.set(request, reply.raw)
    }
  }, (ws, request) => {
    // @fastify/websocket leaves the upgrade's request and response attached for as long as the
    // connection lasts (the TCP socket holds the response, its error listener holds both): about
    // 2.5 KB a connection that nothing reads after the handshake.
    upgrades.get(request)?.detachSocket(request.raw.socket)
    const { userId, username, admin } = identify(secretKeyBase, tokenOf(request), request.log)
    const socket = new PhoenixSocket({
      userId,
      username,
      admin,
      router,
      heartbeatTimeoutMs,
      maxChannels: maxChannelsPerSocket,
      protocolErrors,
      now,
      log: request.log,
      send: frame => { if (ws.readyState === ws.OPEN) ws.send(frame) },
      close: (code, reason) => ws.close(code, reason)
    })
    const release = connections.add(socket, request.ip)

    ws.removeAllListeners('error')
    ws.on('error', (err) => socket.log.debug({ err }, 'websocket error'))
    ws.on('message', (data, isBinary) => {
      // The default binaryType "nodebuffer" always delivers one Buffer.
      const frame = data as Buffer
      // ws's maxPayload only applies when this plugin registered @fastify/websocket itself.
      if (frame.length > maxFrameBytes) {
        void socket.close(1009, 'frame too large')
      } else if (isBinary) {
        socket.handleBinary(frame)
      } else {
        socket.handleText(frame.toString('utf8'))
      }
    })
    ws.on('close', () => {
      release()
      void socket.handleClose()
    })
  })

  if (longPollPath !== false) {
    // Its own scope: LongPoll bodies are read as text, whatever the app parses elsewhere.
    await fastify.register(longPollTransport, {
      path: longPollPath,
      secretKeyBase,
      router,
      connections,
      processId: randomUUID(),
      windowMs: longPollWindowMs,
      maxBodyBytes: maxFrameBytes,
      heartbeatTimeoutMs,
      maxChannelsPerSocket,
      protocolErrors,
      now
    })
  }
}

/**
 * Serves Phoenix Channels v2 over WebSocket at `path` (default /socket/websocket) and over
 * LongPoll at `longPollPath` (default /socket/longpoll), both on the same socket layer:
 *
 *     await app.register(phoenixTransport, {
 *       secretKeyBase: config.secretKeyBase,
 *       channels: [{ pattern: 'room:*', factory: ctx => new RoomChannel(ctx, deps) }]
 *     })
 *
 * Registers @fastify/websocket unless the app already did; register this plugin instead of
 * (not after) @fastify/websocket so that clients get 1001 on shutdown and frames are capped by ws.
 */
export default fp(phoenixTransport, { name: 'phoenix-transport', fastify: '5.x' })
