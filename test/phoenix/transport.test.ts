// The transport with raw WebSockets: handshakes, frames the official client never sends, limits, shutdown.
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import v8 from 'node:v8'
import vm from 'node:vm'
import websocket from '@fastify/websocket'
import Fastify from 'fastify'
import t from 'tap'
import WebSocket from 'ws'
import phoenixTransport from '../../src/phoenix/transport.ts'
import { signUserToken } from '../../src/phoenix/token.ts'
import { EchoRecorder, RawClient, SECRET, startServer, within } from './fixtures/helpers.ts'

const reply = (joinRef: string | null, ref: string, topic: string, status: string, response: object): unknown[] =>
  [joinRef, ref, topic, 'phx_reply', { status, response }]

/** Resolves with the status and body of a refused upgrade. */
async function refusedUpgrade (url: string): Promise<{ status: number, body: Record<string, unknown> }> {
  const ws = new WebSocket(url)
  ws.on('error', () => {})
  const [, res] = await within(once(ws, 'unexpected-response'), 'the refused upgrade') as [unknown, IncomingMessage]
  let body = ''
  for await (const chunk of res) body += String(chunk)
  return { status: res.statusCode ?? 0, body: JSON.parse(body) as Record<string, unknown> }
}

t.test('an unsupported or missing vsn is refused with 400 and logged', async t => {
  const { endpoint, logs } = await startServer(t, { channels: [] })
  for (const query of ['vsn=1.0.0', '', 'vsn=2.0.0&vsn=2.0.0']) {
    const { status, body } = await refusedUpgrade(`${endpoint}/websocket?${query}`)
    t.equal(status, 400, `"${query}" refused`)
    t.equal(body.code, 'XR_ERR_PHOENIX_UNSUPPORTED_VSN')
  }
  t.ok(logs.some(l => l.msg === 'refusing websocket: unsupported Phoenix protocol version' && l.vsn === '1.0.0' && l.level === 40))
})

t.test('joining an unknown topic, or sending before joining, is answered "unmatched topic"', async t => {
  const rec = new EchoRecorder()
  const { endpoint } = await startServer(t, { channels: rec.routes() })
  const raw = await RawClient.open(t, endpoint)
  raw.send(['1', '1', 'nowhere:1', 'phx_join', {}])
  t.same(await raw.receive(), reply(null, '1', 'nowhere:1', 'error', { reason: 'unmatched topic' }))
  raw.send(['2', '2', 'room:a', 'echo', {}])
  t.same(await raw.receive(), reply(null, '2', 'room:a', 'error', { reason: 'unmatched topic' }), 'known pattern, not joined')
  t.same(rec.joins, [])
})

t.test('invalid JSON, wrong shapes and binary frames leave this socket and others working', async t => {
  const rec = new EchoRecorder()
  const { endpoint, logs } = await startServer(t, { channels: rec.routes() })
  const raw = await RawClient.open(t, endpoint)
  const other = await RawClient.open(t, endpoint)

  raw.send('{not json')
  raw.send('[null,"1","room:a","phx_join"]')
  raw.send(Buffer.from([0, 1, 2]))
  t.same(await raw.heartbeat('2'), reply(null, '2', 'phoenix', 'ok', {}), 'unaddressable frames got no answer')

  raw.send(['1', '3', 'room:a', 'phx_join', 'not an object'])
  t.same(await raw.receive(), reply('1', '3', 'room:a', 'error', { reason: 'invalid message' }), 'addressable frames get an error reply')

  raw.send(['4', '4', 'room:a', 'phx_join', {}])
  t.same(await raw.receive(), reply('4', '4', 'room:a', 'ok', { userId: null }))
  t.same(await other.heartbeat('1'), reply(null, '1', 'phoenix', 'ok', {}))
  t.ok(logs.some(l => l.msg === 'refusing binary frame'))
  t.ok(logs.some(l => l.msg === 'ignoring invalid frame'))
})

t.test('a frame over maxFrameBytes closes only that socket with 1009', async t => {
  const { endpoint } = await startServer(t, { channels: [], maxFrameBytes: 1024 })
  const big = await RawClient.open(t, endpoint)
  const other = await RawClient.open(t, endpoint)
  big.send([null, '1', 'phoenix', 'heartbeat', { pad: 'x'.repeat(2000) }])
  t.equal((await big.waitClose()).code, 1009)
  t.same(await other.heartbeat('1'), reply(null, '1', 'phoenix', 'ok', {}))
})

t.test('with @fastify/websocket registered by the app, limits and authToken still hold', async t => {
  const rec = new EchoRecorder()
  const { app, endpoint } = await startServer(t, { channels: rec.routes(), maxFrameBytes: 1024 }, async app => {
    await app.register(websocket)
  })
  t.ok(app.hasDecorator('phoenix'))
  const big = await RawClient.open(t, endpoint)
  big.send([null, '1', 'phoenix', 'heartbeat', { pad: 'x'.repeat(2000) }])
  t.same(await big.waitClose(), { code: 1009, reason: 'frame too large' })

  const token = btoa(signUserToken(SECRET, 'ada')).replace(/=/g, '')
  const ws = new WebSocket(`${endpoint}/websocket?vsn=2.0.0`, ['phoenix', `base64url.bearer.phx.${token}`])
  const client = new RawClient(ws)
  t.teardown(() => ws.terminate())
  await within(once(ws, 'open'), 'open')
  t.equal(ws.protocol, 'phoenix', 'the default handleProtocols picks the first offer, which the client puts first')
  client.send(['1', '1', 'room:a', 'phx_join', {}])
  t.same(await client.receive(), reply('1', '1', 'room:a', 'ok', { userId: 'ada' }))
})

t.test('the auth token entry: the server never echoes it, and a malformed one connects anonymously', async t => {
  const rec = new EchoRecorder()
  const { endpoint } = await startServer(t, { channels: rec.routes() })
  const alone = new WebSocket(`${endpoint}/websocket?vsn=2.0.0`, ['base64url.bearer.phx.abc'])
  const [err] = await within(once(alone, 'error'), 'the handshake to fail') as [Error]
  t.match(err.message, /no subprotocol/, 'no "phoenix" offered, no subprotocol chosen')

  const ws = new WebSocket(`${endpoint}/websocket?vsn=2.0.0&_user_token=${signUserToken(SECRET, 'ada')}`, ['phoenix', 'base64url.bearer.phx.***'])
  const client = new RawClient(ws)
  t.teardown(() => ws.terminate())
  await within(once(ws, 'open'), 'open')
  client.send(['1', '1', 'private:x', 'phx_join', {}])
  t.same(await client.receive(), reply('1', '1', 'private:x', 'error', { reason: 'unauthorized' }), 'the header entry wins over the query token')
})

t.test('an idle socket is closed after heartbeatTimeoutMs while a chatty one stays open', async t => {
  const { endpoint } = await startServer(t, { channels: [], heartbeatTimeoutMs: 200 })
  const idle = await RawClient.open(t, endpoint)
  const chatty = await RawClient.open(t, endpoint)
  let stop = false
  const chatting = (async () => {
    for (let ref = 1; !stop; ref++) await chatty.heartbeat(String(ref))
  })()
  t.same(await idle.waitClose(), { code: 1000, reason: 'heartbeat timeout' })
  stop = true
  await chatting
  t.equal(chatty.ws.readyState, WebSocket.OPEN, 'heartbeats kept the other socket open')
})

t.test('closing the app closes clients with 1001 after terminating their channels', async t => {
  const rec = new EchoRecorder()
  const { app, endpoint } = await startServer(t, { channels: rec.routes() })
  const raw = await RawClient.open(t, endpoint)
  raw.send(['1', '1', 'room:a', 'phx_join', {}])
  await raw.receive()
  t.equal(app.phoenix.sockets.size, 1)
  await within(app.close(), 'app.close')
  t.same(rec.terminated, [{ topic: 'room:a', reason: 'close' }], 'terminated before app.close resolved')
  t.same(await raw.waitClose(), { code: 1001, reason: 'server shutting down' })
})

t.test('bad options stop registration with a clear message', async t => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['relative path', { path: 'socket' }, /path must start with "\/"/],
    ['no secret', { secretKeyBase: '' }, /secretKeyBase is required/],
    ['no channels', { channels: undefined }, /channels must be an array/],
    ['bad pattern', { channels: [{ pattern: 'a*b', factory: () => ({}) }] }, /only have "\*" as its last character/],
    ['zero frame size', { maxFrameBytes: 0 }, /maxFrameBytes/],
    ['bad timeout', { heartbeatTimeoutMs: -1 }, /heartbeatTimeoutMs/]
  ]
  for (const [name, override, message] of cases) {
    const app = Fastify()
    t.teardown(() => app.close())
    const options = { secretKeyBase: SECRET, channels: [], ...override } as Parameters<typeof phoenixTransport>[1]
    await t.rejects(async () => { await app.register(phoenixTransport, options) }, message, name)
  }
})

t.test('connections per address are capped: the next upgrade gets 429 until one closes', async t => {
  const { endpoint } = await startServer(t, { channels: [], maxSocketsPerIp: 2 })
  const first = await RawClient.open(t, endpoint)
  await RawClient.open(t, endpoint)
  const { status, body } = await refusedUpgrade(`${endpoint}/websocket?vsn=2.0.0`)
  t.equal(status, 429)
  t.equal(body.code, 'XR_ERR_PHOENIX_TOO_MANY_SOCKETS')
  first.ws.close()
  await first.waitClose()
  const again = await RawClient.open(t, endpoint)
  t.same(await again.heartbeat('1'), reply(null, '1', 'phoenix', 'ok', {}), 'a slot is free again')
})

t.test('channels per connection are capped; rejoining a joined topic does not count twice', async t => {
  const rec = new EchoRecorder()
  const { endpoint } = await startServer(t, { channels: rec.routes(), maxChannelsPerSocket: 2 })
  const raw = await RawClient.open(t, endpoint)
  raw.send(['1', '1', 'room:a', 'phx_join', {}])
  t.match(await raw.receive(), reply('1', '1', 'room:a', 'ok', {}))
  await raw.receive()
  raw.send(['2', '2', 'room:b', 'phx_join', {}])
  t.match(await raw.receive(), reply('2', '2', 'room:b', 'ok', {}))
  await raw.receive()
  raw.send(['3', '3', 'room:c', 'phx_join', {}])
  t.same(await raw.receive(), reply('3', '3', 'room:c', 'error', { reason: 'too many channels' }))
  raw.send(['4', '4', 'room:a', 'phx_join', {}])
  const frames = [await raw.receive(), await raw.receive()]
  t.ok(frames.some(f => JSON.stringify(f) === JSON.stringify(reply('4', '4', 'room:a', 'ok', { userId: null }))), 'a rejoin of room:a is still allowed')
})

t.test('a connection past its protocol error budget is closed with 1008; errors older than the window are forgiven', async t => {
  let now = 0
  const rec = new EchoRecorder()
  const { endpoint } = await startServer(t, { channels: rec.routes(), protocolErrors: { max: 3, windowMs: 1000 }, now: () => now })
  const raw = await RawClient.open(t, endpoint)
  for (let i = 0; i < 3; i++) raw.send('{garbage')
  t.same(await raw.heartbeat('0'), reply(null, '0', 'phoenix', 'ok', {}), 'three errors: within the budget')
  now = 1500
  raw.send(['1', '1', 'nowhere', 'phx_join', {}])
  raw.send(['1', '2', 'nowhere', 'phx_join', {}])
  t.match(await raw.receive(), [null, '1', 'nowhere', 'phx_reply', { status: 'error' }])
  t.match(await raw.receive(), [null, '2', 'nowhere', 'phx_reply', { status: 'error' }])
  t.same(await raw.heartbeat('3'), reply(null, '3', 'phoenix', 'ok', {}), 'three old errors plus two new: still open')
  raw.send(Buffer.from([0, 0, 1, 6, 4, ...Buffer.from('4room:aecho'), 1]))
  t.same(await raw.receive(), reply(null, '4', 'room:a', 'error', { reason: 'binary payloads are not supported: send JSON' }), 'a binary push is refused with its reason')
  raw.send(['5', '5', 'room:a', 'phx_join', { deny: true }])
  t.match(await raw.receive(), ['5', '5', 'room:a', 'phx_reply', { status: 'error' }])
  t.same(await raw.waitClose(), { code: 1008, reason: 'too many protocol errors (over 3 in 1 s)' }, 'the fourth error in the window closes it')
})

t.test('an open connection keeps nothing of its upgrade: request and response are collected', async t => {
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  const upgrade: Array<WeakRef<object>> = []
  const rec = new EchoRecorder()
  const { endpoint } = await startServer(t, { channels: rec.routes() }, async app => {
    app.addHook('onRequest', async (request, reply) => {
      upgrade.push(new WeakRef(request), new WeakRef(request.raw), new WeakRef(reply), new WeakRef(reply.raw))
    })
  })
  const raw = await RawClient.open(t, endpoint)
  raw.send(['1', '1', 'room:a', 'phx_join', {}])
  t.match(await raw.receive(), reply('1', '1', 'room:a', 'ok', {}))
  t.match(await raw.receive(), ['1', null, 'room:a', 'welcome', {}])
  // A WeakRef's target lives at least until the job that made or read it is over.
  for (let i = 0; i < 3 && upgrade.some(ref => ref.deref() !== undefined); i++) {
    await new Promise(resolve => setImmediate(resolve))
    gc()
  }
  t.equal(upgrade.length, 4)
  t.same(upgrade.map(ref => ref.deref() === undefined), [true, true, true, true], 'FastifyRequest, IncomingMessage, FastifyReply and ServerResponse are gone')
  t.same(await raw.heartbeat('2'), reply(null, '2', 'phoenix', 'ok', {}), 'the connection still works')
})
