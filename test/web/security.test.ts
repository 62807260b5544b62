import t from 'tap'
import { buildApp } from '../../src/app.ts'
import { openDatabase } from '../../src/db/database.ts'
import { Errors } from '../../src/errors.ts'
import { databaseKind } from '../helpers/database.ts'
import { SECRET, webApp } from './fixtures/helpers.ts'

t.comment(`database: ${databaseKind()}`)

t.test('helmet headers and a CSP that lets the room page run and nothing inline', async (t) => {
  const app = await webApp(t)
  const room = await app.rooms.createRoom({ name: 'R' }, {})
  for (const url of ['/rooms', `/rooms/${room.id}`, '/missing']) {
    const res = await app.inject({ url, headers: { host: 'rooms.example:4000' } })
    t.equal(res.headers['x-content-type-options'], 'nosniff', url)
    t.equal(res.headers['x-frame-options'], 'DENY')
    t.equal(res.headers['referrer-policy'], 'same-origin')
    t.equal(res.headers['cross-origin-opener-policy'], 'same-origin')
    t.match(res.headers['strict-transport-security'], /max-age=\d+/)
    const csp = Object.fromEntries(String(res.headers['content-security-policy']).split(';').map((directive) => {
      const [name, ...values] = directive.trim().split(/\s+/)
      return [name, values]
    }))
    t.same(csp['default-src'], ["'self'"])
    t.same(csp['script-src'], ["'self'"], 'scripts from this origin only')
    t.same(csp['script-src-attr'], ["'none'"])
    t.same(csp['style-src'], ["'self'"], 'no inline styles either')
    t.same(csp['img-src'], ["'self'", 'data:', 'blob:'])
    t.same(csp['worker-src'], ["'self'", 'blob:'])
    t.same(csp['connect-src'], ["'self'", 'ws://rooms.example:4000', 'wss://rooms.example:4000'], 'the room socket on this host')
    t.same(csp['object-src'], ["'none'"])
    t.same(csp['frame-ancestors'], ["'none'"])
    t.same(csp['form-action'], ["'self'"])
  }
})

t.test('a Host header cannot inject CSP directives', async (t) => {
  const app = await webApp(t)
  const res = await app.inject({ url: '/rooms', headers: { host: "evil;script-src 'unsafe-inline'" } })
  t.match(res.headers['content-security-policy'], /connect-src 'self' *;/)
  t.notMatch(res.headers['content-security-policy'], /unsafe-inline/)
})

t.test('static files: versioned URLs are immutable, plain ones revalidate', async (t) => {
  const app = await webApp(t)
  const page = await app.inject({ url: '/rooms' })
  const stylesheet = /<link rel="stylesheet" href="([^"]+)">/.exec(page.body)![1]!
  t.match(stylesheet, /^\/css\/app\.css\?v=[\w-]{10}$/)
  const versioned = await app.inject({ url: stylesheet })
  t.equal(versioned.statusCode, 200)
  t.match(versioned.headers['content-type'], /^text\/css/)
  t.equal(versioned.headers['cache-control'], 'public, max-age=31536000, immutable')
  t.ok(versioned.headers.etag, 'an ETag')

  const plain = await app.inject({ url: '/js/rooms.js' })
  t.equal(plain.statusCode, 200)
  t.match(plain.headers['content-type'], /javascript/)
  t.equal(plain.headers['cache-control'], 'public, max-age=0, must-revalidate')
  const revalidated = await app.inject({ url: '/js/rooms.js', headers: { 'if-none-match': String(plain.headers.etag) } })
  t.equal(revalidated.statusCode, 304)

  const favicon = await app.inject({ url: '/favicon.svg' })
  t.equal(favicon.statusCode, 200)
  const missing = await app.inject({ url: '/css/nope.css' })
  t.equal(missing.statusCode, 404)
  const traversal = await app.inject({ url: '/../package.json' })
  t.equal(traversal.statusCode, 404)
})

t.test('JSON clients get JSON errors', async (t) => {
  const app = await webApp(t)
  const accept = { accept: 'application/json' }
  const page = await app.inject({ url: '/nope', headers: accept })
  t.equal(page.statusCode, 404)
  t.same(page.json(), { error: 'XR_ERR_PAGE_NOT_FOUND', message: page.json().message })
  const room = await app.inject({ url: '/rooms/nope', headers: accept })
  t.equal(room.statusCode, 404)
  t.equal(room.json().error, 'XR_ERR_ROOM_NOT_FOUND')
})

t.test('an unexpected error is a 500 page that shows nothing internal', async (t) => {
  const app = await webApp(t, {
    lifecycle: {
      startRoom: async () => { throw new Error('secret internals at /srv/app') },
      stopRoom: async () => {},
      resetRoom: async () => {}
    }
  })
  const room = await app.rooms.createRoom({ name: 'R' }, {})
  const res = await app.inject({ url: `/rooms/${room.id}` })
  t.equal(res.statusCode, 500)
  t.match(res.headers['content-type'], /^text\/html/)
  t.match(res.body, '<p class="error-status">500</p>')
  t.notMatch(res.body, 'secret internals')
  const json = await app.inject({ url: `/rooms/${room.id}`, headers: { accept: 'application/json' } })
  t.same(json.json(), { error: 'XR_ERR_INTERNAL', message: 'Something went wrong on our side' })
})

t.test('an unreachable database is a 503 page', async (t) => {
  const database = await openDatabase({ kind: 'postgres', url: 'postgresql://postgres@127.0.0.1:1/unreachable' })
  t.teardown(() => database.close())
  const app = await buildApp({ database, logger: false, config: { secretKeyBase: SECRET } })
  t.teardown(() => app.close())

  for (const url of ['/rooms', '/rooms/abc', '/rooms/abc/edit', '/rooms/events']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 503, url)
    t.match(res.body, '<p class="error-status">503</p>')
    t.match(res.body, 'The database cannot be reached')
  }
  const json = await app.inject({ url: '/rooms', headers: { accept: 'application/json' } })
  t.equal(json.statusCode, 503)
  t.equal(json.json().error, 'XR_ERR_DATABASE_UNAVAILABLE')
  const form = await app.inject({ url: '/rooms/new' })
  t.equal(form.statusCode, 200, 'pages without the database still work')
})

t.test('Errors.DatabaseUnavailable from a lifecycle hook is a 503 too', async (t) => {
  const app = await webApp(t, {
    lifecycle: {
      startRoom: async () => { throw new Errors.DatabaseUnavailable() },
      stopRoom: async () => {},
      resetRoom: async () => {}
    }
  })
  const room = await app.rooms.createRoom({ name: 'R' }, {})
  const res = await app.inject({ url: `/rooms/${room.id}`, headers: { accept: 'application/json' } })
  t.equal(res.statusCode, 503)
  t.equal(res.json().error, 'XR_ERR_DATABASE_UNAVAILABLE')
})

t.test('bad plugin options stop the boot with a clear message', async (t) => {
  await t.rejects(webApp(t, { lifecycle: { startRoom: async () => {} } as never }), /lifecycle\.stopRoom" must be a function/)
  await t.rejects(webApp(t, { lifecycle: 'nope' as never }), /"lifecycle" must be an object/)
  await t.rejects(webApp(t, { sseHeartbeatMs: 0 }), /"sseHeartbeatMs" must be a positive number/)
})
