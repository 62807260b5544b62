// The LongPoll transport: its HTTP protocol as phoenix.js speaks it, limits shared with the
// WebSocket transport, sessions that end when their client goes away, and foreign sessions.
import t from 'tap'
import { clientKits } from '../channels/fixtures/client-kits.ts'
import { signUserToken } from '../../src/phoenix/token.ts'
import { EchoRecorder, join, push, RawClient, SECRET, startServer, within, type Teardown } from './fixtures/helpers.ts'

interface Answer { http: number, body: { status: number, token?: string, messages?: string[], code?: string } }

/** A LongPoll client by hand: what phoenix.js sends, one request at a time. */
class RawPoller {
  token: string | null = null
  constructor (readonly url: string, readonly query = 'vsn=2.0.0') {}

  #url (): string {
    return `${this.url}?${this.query}${this.token === null ? '' : `&token=${encodeURIComponent(this.token)}`}`
  }

  async get (): Promise<Answer> {
    const res = await fetch(this.#url(), { headers: { accept: 'application/json' } })
    return { http: res.status, body: await res.json() as Answer['body'] }
  }

  /** Opens a session: the first GET answers 410 with its token. */
  async open (): Promise<Answer> {
    const answer = await this.get()
    if (answer.body.token !== undefined) this.token = answer.body.token
    return answer
  }

  async post (frames: unknown[]): Promise<Answer> {
    const body = frames.map(f => typeof f === 'string' ? f : JSON.stringify(f)).join('\n')
    const res = await fetch(this.#url(), { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })
    return { http: res.status, body: await res.json() as Answer['body'] }
  }

  /** Polls until frames arrive, returning them parsed. */
  async frames (): Promise<unknown[]> {
    for (;;) {
      const { body } = await this.get()
      if (body.status === 200) return body.messages!.map(m => JSON.parse(m) as unknown)
      if (body.status !== 204) throw new Error(`poll answered ${body.status}`)
    }
  }
}

async function lpServer (t: Teardown, options: Parameters<typeof startServer>[1]): Promise<ReturnType<typeof startServer> extends Promise<infer S> ? S & { poll: string } : never> {
  const server = await startServer(t, options)
  return { ...server, poll: server.endpoint.replace('ws://', 'http://') + '/longpoll' }
}

t.test('the protocol: 410 opens a session, POST sends ndjson, GET returns frames or 204 after the window', async t => {
  const rec = new EchoRecorder()
  const server = await lpServer(t, { channels: rec.routes(), longPollWindowMs: 1000 })
  const poller = new RawPoller(server.poll, `vsn=2.0.0&_user_token=${signUserToken(SECRET, 'ada')}`)
  const opened = await poller.open()
  t.equal(opened.http, 200, 'HTTP 200, as Phoenix: the status is in the body')
  t.match(opened.body, { status: 410, token: String, messages: [] })
  t.equal(server.app.phoenix.sockets.size, 1, 'a session counts as a connection')

  t.same((await poller.post([['1', '1', 'room:a', 'phx_join', {}], ['1', '2', 'room:a', 'echo', { n: 2 }]])).body, { status: 200 })
  const frames: unknown[] = []
  while (frames.length < 3) frames.push(...await poller.frames())
  t.same(frames, [
    ['1', '1', 'room:a', 'phx_reply', { status: 'ok', response: { userId: 'ada' } }],
    ['1', null, 'room:a', 'welcome', { userId: 'ada' }],
    ['1', '2', 'room:a', 'phx_reply', { status: 'ok', response: { n: 2 } }]
  ], 'the join reply, the push made in join, the echo, in order')
  t.same((await poller.get()).body, { status: 204, token: poller.token, messages: [] }, 'nothing within the window; the token comes back, as phoenix.js takes it from every answer')
})

t.test('refusals: a bad vsn, an unknown or forged token, a foreign process\'s session', async t => {
  const rec = new EchoRecorder()
  const a = await lpServer(t, { channels: rec.routes() })
  const b = await lpServer(t, { channels: rec.routes() })

  const badVsn = await new RawPoller(a.poll, 'vsn=1.0.0').get()
  t.equal(badVsn.http, 400)
  t.match(badVsn.body, { status: 403, code: 'XR_ERR_PHOENIX_UNSUPPORTED_VSN' }, 'phoenix.js closes on 403')

  const poller = new RawPoller(a.poll)
  await poller.open()
  const tokenOfA = poller.token!
  poller.token = tokenOfA.slice(0, -2) + 'xx'
  t.same((await poller.post([[null, '1', 'phoenix', 'heartbeat', {}]])).body, { status: 410 }, 'a forged token is gone')

  // Behind a load balancer without sticky sessions, a poll reaches a process without the session.
  const foreign = new RawPoller(b.poll)
  foreign.token = tokenOfA
  t.same((await foreign.post([[null, '1', 'phoenix', 'heartbeat', {}]])).body, { status: 410 }, 'POST of a foreign session: gone')
  const fresh = await foreign.get()
  t.match(fresh.body, { status: 410, token: String }, 'GET of a foreign session: gone, with a new session as Phoenix does')
  t.not(fresh.body.token, tokenOfA)
  t.equal(b.app.phoenix.sockets.size, 1)
  t.equal(a.app.phoenix.sockets.size, 1, 'A\'s session is untouched')
})

t.test('phoenix 1.8 over LongPoll: a foreign session makes the client open a new one and rejoin', async t => {
  const rec = new EchoRecorder()
  const server = await lpServer(t, { channels: rec.routes() })
  const kit = clientKits['1.8/longpoll']!
  const socket = new kit.Socket(server.endpoint, { transport: kit.transport as never, reconnectAfterMs: () => 20, rejoinAfterMs: () => 20 })
  t.teardown(() => new Promise<void>(resolve => socket.disconnect(resolve)))
  socket.connect()
  const channel = socket.channel('room:a')
  t.equal((await join(channel)).status, 'ok')
  // The session vanishes under the client, as when its poll reaches another process.
  const rejoined = within(new Promise(resolve => rec.once('join', resolve)), 'the rejoin')
  const [only] = server.app.phoenix.sockets
  await only!.close(1000, 'test: the session is gone')
  await rejoined
  t.same(await push(channel, 'echo', { back: true }), { status: 'ok', response: { back: true } })
})

t.test('WebSocket and LongPoll connections share MAX_SOCKETS_PER_IP', async t => {
  const server = await lpServer(t, { channels: [], maxSocketsPerIp: 2 })
  await RawClient.open(t, server.endpoint)
  await new RawPoller(server.poll).open()
  const refused = await new RawPoller(server.poll).get()
  t.equal(refused.http, 429)
  t.match(refused.body, { status: 403, code: 'XR_ERR_PHOENIX_TOO_MANY_SOCKETS' })
  t.equal(server.app.phoenix.sockets.size, 2)
})

t.test('a session whose client stops polling ends, its channels terminate; a body over the limit ends it too', async t => {
  const rec = new EchoRecorder()
  const server = await lpServer(t, { channels: rec.routes(), longPollWindowMs: 100, maxFrameBytes: 1024 })
  const poller = new RawPoller(server.poll)
  await poller.open()
  await poller.post([['1', '1', 'room:a', 'phx_join', {}]])
  t.same(await within(new Promise(resolve => rec.once('terminate', (...args) => resolve(args))), 'terminate after the idle window'), ['room:a', 'close'])
  t.equal(server.app.phoenix.sockets.size, 0)
  t.same((await poller.post([[null, '1', 'phoenix', 'heartbeat', {}]])).body, { status: 410 }, 'the ended session is gone')

  const big = new RawPoller(server.poll)
  await big.open()
  const tooLarge = await big.post([[null, '1', 'phoenix', 'heartbeat', { pad: 'x'.repeat(2000) }]])
  t.equal(tooLarge.http, 413)
  t.equal(tooLarge.body.status, 413, 'phoenix.js reconnects on anything but 200')
  t.equal(server.app.phoenix.sockets.size, 0, 'the session ended')
  t.same((await big.post([[null, '1', 'phoenix', 'heartbeat', {}]])).body, { status: 410 })
})

t.test('no session leaks after 1,000 short-lived phoenix LongPoll clients', async t => {
  const rec = new EchoRecorder()
  const server = await lpServer(t, { channels: rec.routes(), longPollWindowMs: 1000, maxSocketsPerIp: 2000 })
  const kit = clientKits['1.8/longpoll']!
  const CLIENTS = 1000
  const AT_ONCE = 25
  let done = false
  // Every join (a client whose session timed out on this busy machine rejoins) ends, and no session is left.
  const drained = (): boolean => done && rec.terminated.length === rec.joins.length && server.app.phoenix.sockets.size === 0
  const allGone = within(new Promise<void>(resolve => {
    rec.on('terminate', () => { if (drained()) resolve() })
  }), 'every channel to terminate', 120_000)
  for (let start = 0; start < CLIENTS; start += AT_ONCE) {
    await Promise.all(Array.from({ length: AT_ONCE }, async () => {
      const socket = new kit.Socket(server.endpoint, { transport: kit.transport as never })
      socket.connect()
      const channel = socket.channel('room:a')
      // The machine is shared: a patient wait, not a measurement.
      await within(new Promise((resolve, reject) => channel.join(30_000).receive('ok', resolve).receive('error', reject)), 'a join', 30_000)
      // Gone without a word, as a closed tab: phoenix.js aborts its poll and sends nothing.
      await new Promise<void>(resolve => socket.disconnect(resolve))
    }))
  }
  done = true
  if (!drained()) await allGone
  t.ok(rec.joins.length >= CLIENTS, 'every client joined')
  t.ok(rec.terminated.every(x => x.reason === 'close'))
  t.equal(server.app.phoenix.sockets.size, 0, 'no session left')
})

t.test('server shutdown answers a waiting poll "gone"', async t => {
  const server = await lpServer(t, { channels: [] })
  const poller = new RawPoller(server.poll)
  await poller.open()
  const arrived = within(new Promise(resolve => server.app.server.once('request', resolve)), 'the poll at the server')
  const waiting = poller.get()
  await arrived
  await new Promise<void>(resolve => setImmediate(resolve))
  await server.app.close()
  t.same((await waiting).body, { status: 410 })
})

t.test('a LongPoll session past its protocol error budget ends: its poll is answered 403', async t => {
  const server = await lpServer(t, { channels: [], protocolErrors: { max: 2, windowMs: 10_000 } })
  const poller = new RawPoller(server.poll)
  await poller.open()
  const waiting = poller.get()
  await poller.post(['{garbage', '{garbage', '{garbage'])
  t.same((await waiting).body, { status: 403 }, 'phoenix.js closes with 1008 "forbidden"')
  t.equal(server.app.phoenix.sockets.size, 0)
})
