import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'

/**
 * Signed, expiring user tokens in the spirit of Phoenix.Token: `<payload>.<signature>`, both
 * base64url, where the payload is JSON `{u: userId, n?: displayName, a?: 1 (an admin), t: signedAtSeconds}`. They are signed, not
 * encrypted: the user id is readable by whoever holds the token.
 *
 * The alphabet matters: the phoenix client sends `authToken` inside Sec-WebSocket-Protocol as
 * `btoa(token)`, and standard base64 of base64url characters never contains `/` or `+`, which
 * WebSocket subprotocol names cannot carry.
 */

/** Separates user-socket tokens from anything else signed with the same secret. */
const SALT = 'user socket'
const DEFAULT_MAX_AGE_SECONDS = 14 * 24 * 60 * 60

export type VerifyResult =
  | { ok: true, userId: string, username?: string, admin?: true }
  | { ok: false, reason: 'invalid' | 'expired' }

// A derived key means a leaked token signature says nothing about the raw secret_key_base.
function signingKey (secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, SALT, 'phoenix token', 32))
}

function sign (secret: string, payload: string): string {
  return createHmac('sha256', signingKey(secret)).update(payload).digest('base64url')
}

/**
 * Signs `userId` (and the display name the session chose, and whether it signed in as an admin,
 * so the socket needs no session lookup) with the time it was signed; `now` (ms since epoch) is
 * injectable for tests.
 */
export function signUserToken (
  secret: string,
  userId: string,
  { now = Date.now(), username, admin = false }: { now?: number, username?: string, admin?: boolean } = {}
): string {
  const claims = { u: userId, ...(username === undefined ? {} : { n: username }), ...(admin ? { a: 1 } : {}), t: Math.floor(now / 1000) }
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url')
  return `${payload}.${sign(secret, payload)}`
}

/**
 * Checks signature and age. Tokens are untrusted input: anything malformed, tampered with or
 * signed with another secret is 'invalid'; one older than `maxAgeSeconds` is 'expired'.
 */
export function verifyUserToken (
  secret: string,
  token: string,
  { maxAgeSeconds = DEFAULT_MAX_AGE_SECONDS, now = Date.now() }: { maxAgeSeconds?: number, now?: number } = {}
): VerifyResult {
  const invalid = { ok: false, reason: 'invalid' } as const
  const parts = token.split('.')
  if (parts.length !== 2) return invalid
  const [payload, signature] = parts as [string, string]
  // Compare the encoded strings: decoding first would accept several spellings of one signature.
  const expected = Buffer.from(sign(secret, payload))
  const given = Buffer.from(signature)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid

  let claims: unknown
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
  } catch {
    return invalid
  }
  if (typeof claims !== 'object' || claims === null) return invalid
  const { u: userId, n: username, a: admin, t: signedAt } = claims as Record<string, unknown>
  if (typeof userId !== 'string' || userId === '' || !Number.isSafeInteger(signedAt)) return invalid
  if (username !== undefined && typeof username !== 'string') return invalid
  if (admin !== undefined && admin !== 1) return invalid
  if ((signedAt as number) + maxAgeSeconds < now / 1000) return { ok: false, reason: 'expired' }
  return { ok: true, userId, ...(username === undefined ? {} : { username }), ...(admin === 1 ? { admin: true } : {}) }
}
