import { createHmac } from 'node:crypto'
import { Type, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'

/** One entry of RTCPeerConnection's `iceServers`, as ICE_SERVERS spells it. */
export const IceServer = Type.Object({
  urls: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]),
  username: Type.Optional(Type.String()),
  credential: Type.Optional(Type.String())
}, { additionalProperties: false })
export type IceServer = Static<typeof IceServer>

const IceServers = TypeCompiler.Compile(Type.Array(IceServer))

const urlsOf = (server: IceServer): string[] => typeof server.urls === 'string' ? [server.urls] : server.urls
const isTurn = (server: IceServer): boolean => urlsOf(server).some((url) => /^turns?:/i.test(url))

/** ICE_SERVERS: a JSON list as RTCPeerConnection takes it; unset or empty is no server (host candidates only). */
export function parseIceServers (value: string | undefined): IceServer[] {
  if (value === undefined || value.trim() === '') return []
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    throw new Error('ICE_SERVERS must be JSON, e.g. [{"urls":"stun:stun.example.org:3478"}]')
  }
  if (!IceServers.Check(parsed)) {
    const first = IceServers.Errors(parsed).First()
    throw new Error(`ICE_SERVERS must be a list of {urls, username?, credential?}: ${first ? `${first.path || '/'} ${first.message}` : 'invalid'}`)
  }
  for (const server of parsed) {
    for (const url of urlsOf(server)) if (!/^(stuns?|turns?):/i.test(url)) throw new Error(`ICE_SERVERS: "${url}" is not a stun:, stuns:, turn: or turns: URL`)
  }
  return parsed
}

/**
 * coturn's REST API credentials (use-auth-secret / static-auth-secret): the username is
 * `<expiry unix seconds>:<user id>` and the credential base64(HMAC-SHA1(secret, username)),
 * so coturn checks them with the shared secret alone and refuses them after the expiry.
 */
export function turnCredentials (secret: string, userId: string, ttlSeconds: number, nowMs: number): { username: string, credential: string } {
  const username = `${Math.floor(nowMs / 1000) + ttlSeconds}:${userId}`
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') }
}

export interface IceSettings {
  iceServers: readonly IceServer[]
  /** With it, TURN entries get short-lived credentials instead of the configured ones. */
  turnSecret?: string
  turnTtlSeconds: number
}

/** The ICE servers one user is given when joining voice. */
export function iceServersFor (settings: IceSettings, userId: string, nowMs: number): IceServer[] {
  const { turnSecret } = settings
  return settings.iceServers.map((server) => {
    if (turnSecret === undefined || !isTurn(server)) return { ...server }
    return { ...server, ...turnCredentials(turnSecret, userId, settings.turnTtlSeconds, nowMs) }
  })
}

/** TURN_SECRET makes sense only with a turn: server to hand credentials for. */
export function assertTurnConfigured (settings: Pick<IceSettings, 'iceServers' | 'turnSecret'>): void {
  if (settings.turnSecret !== undefined && !settings.iceServers.some(isTurn)) {
    throw new Error('TURN_SECRET is set but ICE_SERVERS lists no turn: or turns: server')
  }
}
