import { createHmac, hkdfSync, randomBytes } from 'node:crypto'
import t from 'tap'
import { signUserToken, verifyUserToken } from '../../src/phoenix/token.ts'

const SECRET = 'a-secret-key-base-for-token-tests-0123456789'
const DAY = 24 * 60 * 60 * 1000
const now = Date.UTC(2025, 0, 1)

t.test('a signed token verifies to its user id', async t => {
  const token = signUserToken(SECRET, 'user-42', { now })
  t.same(verifyUserToken(SECRET, token, { now }), { ok: true, userId: 'user-42' })
  t.same(verifyUserToken(SECRET, signUserToken(SECRET, 'user-42')), { ok: true, userId: 'user-42' }, 'real clock')
})

t.test('a token signed with another secret is invalid', async t => {
  const token = signUserToken('another-secret', 'user-42', { now })
  t.same(verifyUserToken(SECRET, token, { now }), { ok: false, reason: 'invalid' })
})

t.test('tampering with payload or signature makes it invalid', async t => {
  const token = signUserToken(SECRET, 'user-42', { now })
  const [payload, signature] = token.split('.') as [string, string]
  const forged = Buffer.from(JSON.stringify({ u: 'admin', t: Math.floor(now / 1000) })).toString('base64url')
  t.same(verifyUserToken(SECRET, `${forged}.${signature}`, { now }), { ok: false, reason: 'invalid' }, 'other payload')
  const flipped = signature.slice(0, -1) + (signature.endsWith('A') ? 'B' : 'A')
  t.same(verifyUserToken(SECRET, `${payload}.${flipped}`, { now }), { ok: false, reason: 'invalid' }, 'other signature')
  t.same(verifyUserToken(SECRET, `${payload}.${signature}x`, { now }), { ok: false, reason: 'invalid' }, 'longer signature')
  for (const garbage of ['', 'abc', `${token}.extra`, `.${signature}`]) {
    t.same(verifyUserToken(SECRET, garbage, { now }), { ok: false, reason: 'invalid' }, `garbage ${JSON.stringify(garbage)}`)
  }
})

t.test('a token expires after maxAgeSeconds (14 days by default)', async t => {
  const token = signUserToken(SECRET, 'user-42', { now })
  t.same(verifyUserToken(SECRET, token, { now: now + 14 * DAY }), { ok: true, userId: 'user-42' }, 'at the limit')
  t.same(verifyUserToken(SECRET, token, { now: now + 14 * DAY + 1000 }), { ok: false, reason: 'expired' }, 'one second past')
  t.same(verifyUserToken(SECRET, token, { now: now + 61_000, maxAgeSeconds: 60 }), { ok: false, reason: 'expired' }, 'custom max age')
})

t.test('tokens survive the phoenix client\'s btoa() into a Sec-WebSocket-Protocol entry', async t => {
  // Subprotocol names cannot hold "/" or "+", and the client uses standard base64.
  const unsafe = Array.from({ length: 500 }, (_, i) => signUserToken(SECRET, randomBytes(12).toString('hex') + '~?>', { now: now + i }))
    .filter(token => /[/+]/.test(btoa(token)))
  t.same(unsafe, [])
})

t.test('a correctly signed payload with unusable claims is still invalid', async t => {
  // Signs like token.ts does, to reach the claim checks behind the signature.
  const key = Buffer.from(hkdfSync('sha256', SECRET, 'user socket', 'phoenix token', 32))
  const signed = (claims: string): string => {
    const payload = Buffer.from(claims).toString('base64url')
    return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`
  }
  t.same(verifyUserToken(SECRET, signed(JSON.stringify({ u: 'user-1', t: now / 1000 })), { now }), { ok: true, userId: 'user-1' }, 'the format this test mirrors')
  for (const claims of ['not json', 'null', '{"u":"","t":1}', '{"u":5,"t":1}', '{"u":"x","t":"1"}', '{"u":"x"}', '{"u":"x","t":1,"a":true}', '{"u":"x","t":1,"a":"1"}', '{"u":"x","t":1,"a":0}']) {
    t.same(verifyUserToken(SECRET, signed(claims), { now }), { ok: false, reason: 'invalid' }, claims)
  }
})

t.test('a display name can ride along in the token and is covered by the signature', async (t) => {
  const secret = 'name-secret-0123456789abcdef0123456789'
  const token = signUserToken(secret, 'user-9', { username: 'Ada <3' })
  t.same(verifyUserToken(secret, token), { ok: true, userId: 'user-9', username: 'Ada <3' })
  t.same(verifyUserToken(secret, signUserToken(secret, 'user-9')), { ok: true, userId: 'user-9' }, 'no name, no username key')

  const [payload, signature] = token.split('.')
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'))
  const renamed = Buffer.from(JSON.stringify({ ...claims, n: 'Mallory' })).toString('base64url')
  t.same(verifyUserToken(secret, `${renamed}.${signature}`), { ok: false, reason: 'invalid' }, 'a changed name breaks the signature')
})

t.test('the admin claim is signed like the rest: present only when asked for, and not forgeable', async (t) => {
  const secret = 'admin-secret-0123456789abcdef0123456789'
  const token = signUserToken(secret, 'user-7', { username: 'Ada', admin: true })
  t.same(verifyUserToken(secret, token), { ok: true, userId: 'user-7', username: 'Ada', admin: true })
  t.same(verifyUserToken(secret, signUserToken(secret, 'user-7', { admin: false })), { ok: true, userId: 'user-7' }, 'no admin key unless admin')

  const [payload, signature] = signUserToken(secret, 'user-7').split('.')
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'))
  const promoted = Buffer.from(JSON.stringify({ ...claims, a: 1 })).toString('base64url')
  t.same(verifyUserToken(secret, `${promoted}.${signature}`), { ok: false, reason: 'invalid' }, 'adding the claim breaks the signature')
})
