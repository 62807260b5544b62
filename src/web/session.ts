import { hkdfSync, randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import fastifyCookie from '@fastify/cookie'
import fastifySecureSession from '@fastify/secure-session'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ValidationError } from '../errors.ts'

/** A message shown once, on the next page rendered for this visitor. */
export interface Flash {
  kind: 'notice' | 'alert'
  message: string
}

declare module '@fastify/secure-session' {
  interface SessionData {
    userId: string
    username: string
    /** Days since the epoch when the cookie was last re-issued; keeps the expiry rolling. */
    issuedDay: number
    flash: Flash
    /** Signed in at /admin with ADMIN_TOKEN: manages every room. */
    admin: boolean
    /** A room's manage link, shown once on its page right after the visitor created it. */
    newManageLink: { roomId: string, path: string }
    _csrf: string
  }
}

/** Who is asking: a random id kept in the session cookie and a display name of their choice. */
export interface Visitor {
  id: string
  name: string
}

declare module 'fastify' {
  interface FastifyRequest {
    visitor: Visitor
  }
}

export const DEFAULT_USERNAME = 'anon'
export const USERNAME_MAX = 32
const COOKIE_NAME = 'xr_session'
const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60
const DAY_MS = 24 * 60 * 60 * 1000

// A key of its own, so the session cookie and the socket tokens never share key material.
function sessionKey (secretKeyBase: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKeyBase, 'session cookie', 'xr-rooms secure-session', 32))
}

// C0/C1 controls (NUL included, which PostgreSQL refuses in text), and lone surrogates.
const CONTROL = /[\p{Cc}\p{Cs}]/u

/**
 * The display name as stored: trimmed, 1..32 characters (code points), no control characters.
 * Anything else is kept as typed (markup, bidi marks, emoji) and escaped wherever it is shown.
 */
export function normalizeUsername (raw: string): string {
  const name = raw.trim()
  if (name.length === 0) throw new ValidationError({ username: "can't be blank" })
  if (CONTROL.test(name)) throw new ValidationError({ username: "can't contain control characters" })
  if ([...name].length > USERNAME_MAX) throw new ValidationError({ username: `should be at most ${USERNAME_MAX} characters` })
  return name
}

/** The room's manage link if it waits to be shown on this room's page; shown once. */
export function takeNewManageLink (request: FastifyRequest, roomId: string): string | null {
  const link = request.session.get('newManageLink')
  if (link === undefined || link.roomId !== roomId) return null
  request.session.set('newManageLink', undefined)
  return link.path
}

export function setFlash (request: FastifyRequest, kind: Flash['kind'], message: string): void {
  request.session.set('flash', { kind, message })
}

/** The pending flash message, removed from the session so it shows only once. */
export function takeFlash (request: FastifyRequest): Flash | null {
  const flash = request.session.get('flash')
  if (flash === undefined) return null
  request.session.set('flash', undefined)
  return flash
}

/**
 * Encrypted cookie sessions (@fastify/secure-session) and `request.visitor`: every visitor
 * gets a user id on the first request and keeps it for a year after their last visit.
 */
async function sessionPlugin (fastify: FastifyInstance): Promise<void> {
  await fastify.register(fastifyCookie)
  await fastify.register(fastifySecureSession, {
    key: sessionKey(fastify.config.secretKeyBase),
    cookieName: COOKIE_NAME,
    expiry: ONE_YEAR_SECONDS,
    cookie: {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      // Secure whenever the request came over TLS (directly or via X-Forwarded-Proto).
      secure: 'auto',
      maxAge: ONE_YEAR_SECONDS
    }
  })

  fastify.decorateRequest('visitor', null as unknown as Visitor)
  fastify.addHook('onRequest', async (request) => {
    const session = request.session
    let userId = session.get('userId')
    if (typeof userId !== 'string' || userId === '') {
      userId = randomUUID()
      session.set('userId', userId)
      session.set('username', DEFAULT_USERNAME)
    }
    // Writing the session re-issues the cookie with a fresh expiry; once a day is enough.
    const today = Math.floor(Date.now() / DAY_MS)
    if (session.get('issuedDay') !== today) session.set('issuedDay', today)
    request.visitor = { id: userId, name: session.get('username') ?? DEFAULT_USERNAME }
  })
}

export default fp(sessionPlugin, { name: 'web-session', fastify: '5.x' })
