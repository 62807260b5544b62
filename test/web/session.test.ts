import t from 'tap'
import { verifyUserToken } from '../../src/phoenix/token.ts'
import { databaseKind } from '../helpers/database.ts'
import { meta, SECRET, SESSION_COOKIE, Visitor, webApp } from './fixtures/helpers.ts'

t.comment(`database: ${databaseKind()}`)

t.test('the session cookie: encrypted, httpOnly, SameSite=Lax, path /, a year', async (t) => {
  const app = await webApp(t)
  const res = await app.inject({ url: '/rooms' })
  const cookie = [res.headers['set-cookie']].flat().find((c) => c?.startsWith(`${SESSION_COOKIE}=`))
  t.ok(cookie, 'a first visit gets a session')
  t.match(cookie, /; HttpOnly/)
  t.match(cookie, /; SameSite=Lax/)
  t.match(cookie, /; Path=\//)
  t.match(cookie, /; Max-Age=31536000/)
  t.notMatch(cookie, /; Secure/, 'not Secure over plain http')
  t.notMatch(decodeURIComponent(cookie!), /anon/, 'the content is not readable')

  const forged = await app.inject({ url: '/rooms', headers: { 'x-forwarded-proto': 'https' } })
  t.notMatch([forged.headers['set-cookie']].flat().join('\n'), /; Secure/, 'X-Forwarded-Proto is not believed without TRUST_PROXY')
  const behindProxy = await webApp(t, {}, { trustProxy: true })
  const tls = await behindProxy.inject({ url: '/rooms', headers: { 'x-forwarded-proto': 'https' } })
  t.match([tls.headers['set-cookie']].flat().join('\n'), /; Secure/, 'Secure behind a trusted TLS proxy')
})

t.test('the user id is stable across requests and the name change', async (t) => {
  const app = await webApp(t)
  const room = await app.rooms.createRoom({ name: 'R' }, {})
  const visitor = new Visitor(app)

  const first = await visitor.get(`/rooms/${room.id}`)
  const userId = meta(first.body, 'user-id')
  t.match(userId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a random uuid')
  t.equal(meta(first.body, 'username'), 'anon', 'default name')

  const second = await visitor.get(`/rooms/${room.id}`)
  t.equal(meta(second.body, 'user-id'), userId, 'same id on the next visit')

  const renamed = await visitor.post('/session/name', { username: '  Ada Lovelace  ' }, { referer: `http://localhost:80/rooms/${room.id}` })
  t.equal(renamed.statusCode, 303, 'a plain form post redirects')
  t.equal(renamed.headers.location, `/rooms/${room.id}`, 'back to the page it came from')

  const after = await visitor.get(`/rooms/${room.id}`)
  t.equal(meta(after.body, 'user-id'), userId, 'same id after the name change')
  t.equal(meta(after.body, 'username'), 'Ada Lovelace', 'trimmed name kept')
  t.match(after.body, '<input name="username" value="Ada Lovelace"')
  t.match(after.body, 'You now appear as “Ada Lovelace”.', 'flash after the change')

  const other = new Visitor(app)
  const theirs = await other.get(`/rooms/${room.id}`)
  t.not(meta(theirs.body, 'user-id'), userId, 'another visitor gets another id')
})

t.test('the room page token verifies and names the user', async (t) => {
  const app = await webApp(t)
  const room = await app.rooms.createRoom({ name: 'R' }, {})
  const visitor = new Visitor(app)
  await visitor.post('/session/name', { username: 'Grace' })
  const page = await visitor.get(`/rooms/${room.id}`)
  const token = meta(page.body, 'user-token')!
  const verified = verifyUserToken(SECRET, token)
  t.same(verified, { ok: true, userId: meta(page.body, 'user-id'), username: 'Grace' })
  t.same(verifyUserToken('another-secret-key-base-0123456789-0123456789', token), { ok: false, reason: 'invalid' })
  t.equal(meta(page.body, 'room-id'), room.id)
})

t.test('fetch requests: JSON gets the new name and a fresh token, others 204', async (t) => {
  const app = await webApp(t)
  const visitor = new Visitor(app)
  await visitor.get('/rooms')

  const json = await visitor.post('/session/name', { username: 'Linus' }, { accept: 'application/json' })
  t.equal(json.statusCode, 200)
  const body = json.json()
  t.equal(body.username, 'Linus')
  const verified = verifyUserToken(SECRET, body.user_token)
  t.ok(verified.ok && verified.username === 'Linus', 'the fresh token carries the new name')

  const xhr = await visitor.post('/session/name', { username: 'Linus T' }, { 'x-requested-with': 'XMLHttpRequest' })
  t.equal(xhr.statusCode, 204)
  t.equal(xhr.body, '')
})

t.test('invalid names: 422 with a message, the name unchanged', async (t) => {
  const app = await webApp(t)
  const room = await app.rooms.createRoom({ name: 'R' }, {})
  const visitor = new Visitor(app)
  await visitor.get(`/rooms/${room.id}`)

  for (const [username, message] of [['   ', "can't be blank"], ['x'.repeat(33), 'should be at most 32 characters']] as const) {
    const json = await visitor.post('/session/name', { username }, { accept: 'application/json' })
    t.equal(json.statusCode, 422)
    t.same(json.json(), { error: 'XR_ERR_VALIDATION', message: `Invalid input: username ${message}`, fields: { username: message } })

    const html = await visitor.post('/session/name', { username })
    t.equal(html.statusCode, 422)
    t.match(html.headers['content-type'], /^text\/html/)
    t.match(html.body, `username ${message.replace("'", '&#39;')}`)
  }
  t.equal((await visitor.post('/session/name', { username: 'x'.repeat(32) }, { accept: 'application/json' })).statusCode, 200, '32 characters are fine')

  const missing = await visitor.post('/session/name', {}, { accept: 'application/json' })
  t.equal(missing.statusCode, 422)
  t.same(missing.json().fields, { username: "can't be blank" })

  const page = await visitor.get(`/rooms/${room.id}`)
  t.equal(meta(page.body, 'username'), 'x'.repeat(32))
})

t.test('the redirect back never leaves the site', async (t) => {
  const app = await webApp(t)
  const visitor = new Visitor(app)
  for (const referer of ['https://evil.example/rooms', 'http://localhost:80//evil.example/x', 'not a url']) {
    const res = await visitor.post('/session/name', { username: 'Eve' }, { referer })
    t.equal(res.statusCode, 303)
    t.equal(res.headers.location, '/rooms', referer)
  }
  const none = await visitor.post('/session/name', { username: 'Eve' })
  t.equal(none.headers.location, '/rooms')
})

t.test('a tampered session cookie starts a new session instead of failing', async (t) => {
  const app = await webApp(t)
  const res = await app.inject({ url: '/rooms', headers: { cookie: `${SESSION_COOKIE}=garbage%3Bmore` } })
  t.equal(res.statusCode, 200)
  t.match([res.headers['set-cookie']].flat().join('\n'), new RegExp(`^${SESSION_COOKIE}=`))
})
