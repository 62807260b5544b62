// The official phoenix client against the real server: what a browser will do.
import t from 'tap'
import { signUserToken } from '../../src/phoenix/token.ts'
import { connectClient, deferred, EchoRecorder, join, next, push, SECRET, startServer, within } from './fixtures/helpers.ts'

// Events the server never answers: a short push timeout so no client timer outlives the test.
const NO_REPLY_MS = 50

t.test('join gets the user id from _user_token; pushes made in join arrive after the ok', async t => {
  const rec = new EchoRecorder()
  const { endpoint } = await startServer(t, { channels: rec.routes() })
  const socket = await connectClient(t, endpoint, { params: { _user_token: signUserToken(SECRET, 'ada') } })
  const channel = socket.channel('private:lab')
  const order: string[] = []
  const welcome = deferred<unknown>()
  channel.on('welcome', payload => { order.push('welcome'); welcome.resolve(payload) })
  const joined = deferred<unknown>()
  channel.join().receive('ok', response => { order.push('joined'); joined.resolve(response) })
  t.same(await within(joined.promise, 'the join reply'), { userId: 'ada' })
  t.same(await within(welcome.promise, 'welcome'), { userId: 'ada' })
  t.same(order, ['joined', 'welcome'])
  t.equal(rec.joins[0]?.userId, 'ada')
  t.equal(rec.joins[0]?.joinRef, (channel as unknown as { joinRef: () => string }).joinRef(), 'ctx.joinRef is the client\'s join ref')
})

t.test('no token or a bad token connects anonymously; a join error reply is passed through', async t => {
  const rec = new EchoRecorder()
  const { endpoint, logs } = await startServer(t, { channels: rec.routes() })
  const anonymous = await connectClient(t, endpoint)
  t.same(await join(anonymous.channel('private:lab')), { status: 'error', response: { reason: 'unauthorized' } })

  const forged = await connectClient(t, endpoint, { params: { _user_token: signUserToken('other secret', 'ada') } })
  t.same(await join(forged.channel('private:lab')), { status: 'error', response: { reason: 'unauthorized' } })
  t.ok(logs.some(l => l.msg === 'connecting anonymously: user token rejected' && l.reason === 'invalid'))

  t.same(await join(anonymous.channel('room:a', { deny: true })), { status: 'error', response: { reason: 'denied' } })
  t.equal(rec.terminated.length, 0, 'refused joins are not terminated')
})

t.test('authToken travels in Sec-WebSocket-Protocol and the server answers with "phoenix"', async t => {
  const rec = new EchoRecorder()
  const { endpoint } = await startServer(t, { channels: rec.routes() })
  const socket = await connectClient(t, endpoint, { authToken: signUserToken(SECRET, 'grace') })
  // socket.conn is the ws instance; @types/phoenix does not declare it.
  t.equal((socket as unknown as { conn: { protocol: string } }).conn.protocol, 'phoenix')
  t.same(await join(socket.channel('private:lab')), { status: 'ok', response: { userId: 'grace' } })
})

t.test('handleIn replies ok and error; a server push arrives through channel.on', async t => {
  const rec = new EchoRecorder()
  const { endpoint } = await startServer(t, { channels: rec.routes() })
  const socket = await connectClient(t, endpoint)
  const channel = socket.channel('room:a')
  await join(channel)
  t.same(await push(channel, 'echo', { hello: 'world' }), { status: 'ok', response: { hello: 'world' } })
  t.same(await push(channel, 'fail'), { status: 'error', response: { reason: 'nope' } })

  const pushed = deferred<unknown>()
  channel.on('pushed', pushed.resolve)
  channel.push('push_me', { x: 1 }, NO_REPLY_MS)
  t.same(await within(pushed.promise, 'the pushed event'), { x: 1 })
})

t.test('heartbeats are answered', async t => {
  const { endpoint } = await startServer(t, { channels: [] })
  const socket = await connectClient(t, endpoint)
  const rtt = await within(new Promise<number>(resolve => socket.ping(resolve)), 'the heartbeat reply')
  t.type(rtt, 'number')
})

t.test('a channel that throws gets phx_error and the client rejoins by itself; its sibling carries on', async t => {
  const rec = new EchoRecorder()
  const { endpoint } = await startServer(t, { channels: rec.routes() })
  const socket = await connectClient(t, endpoint, { rejoinAfterMs: () => 10 })
  const crashing = socket.channel('room:crash')
  const sibling = socket.channel('room:sibling')
  await join(crashing)
  await join(sibling)

  const errored = deferred()
  crashing.onError(() => errored.resolve())
  const terminated = next(rec, 'terminate')
  crashing.push('boom', {}, NO_REPLY_MS)
  await within(errored.promise, 'phx_error on the client')
  t.same(await terminated, ['room:crash', 'error'])

  const rejoined = await next(rec, 'join')
  t.equal(rec.joins.filter(ctx => ctx.topic === 'room:crash').length, 2, 'join ran twice')
  t.not((rejoined[0] as { joinRef: string }).joinRef, rec.joins[0]?.joinRef, 'the rejoin has a new join ref')
  t.same(await push(crashing, 'echo', { again: true }), { status: 'ok', response: { again: true } })
  t.same(await push(sibling, 'echo', { still: 'here' }), { status: 'ok', response: { still: 'here' } })
})

t.test('ctx.crash() from the server also makes the client rejoin', async t => {
  const rec = new EchoRecorder()
  const { endpoint } = await startServer(t, { channels: rec.routes() })
  const socket = await connectClient(t, endpoint, { rejoinAfterMs: () => 10 })
  const channel = socket.channel('room:a')
  await join(channel)
  const rejoined = next(rec, 'join')
  channel.push('crash_me', {}, NO_REPLY_MS)
  await rejoined
  t.same(rec.terminated, [{ topic: 'room:a', reason: 'error' }])
  t.same(await push(channel, 'echo', { back: true }), { status: 'ok', response: { back: true } }, 'rejoined and working')
})

t.test('ctx.close() closes the client channel for good', async t => {
  const rec = new EchoRecorder()
  const { endpoint } = await startServer(t, { channels: rec.routes() })
  const socket = await connectClient(t, endpoint)
  const channel = socket.channel('room:a')
  await join(channel)
  const closed = deferred()
  channel.onClose(() => closed.resolve())
  channel.push('close_me', {}, NO_REPLY_MS)
  await within(closed.promise, 'phx_close on the client')
  t.same(rec.terminated, [{ topic: 'room:a', reason: 'close' }])
  t.equal(channel.state, 'closed')
})

t.test('leave terminates the channel with "leave"', async t => {
  const rec = new EchoRecorder()
  const { endpoint } = await startServer(t, { channels: rec.routes() })
  const socket = await connectClient(t, endpoint)
  const channel = socket.channel('room:a')
  await join(channel)
  const terminated = next(rec, 'terminate')
  const left = new Promise(resolve => channel.leave().receive('ok', resolve))
  await within(left, 'the leave reply')
  t.same(await terminated, ['room:a', 'leave'])
})

t.test('closing the socket terminates all of its channels with "close"', async t => {
  const rec = new EchoRecorder()
  const { app, endpoint } = await startServer(t, { channels: rec.routes() })
  const socket = await connectClient(t, endpoint)
  await join(socket.channel('room:a'))
  await join(socket.channel('room:b'))
  t.equal(app.phoenix.sockets.size, 1)
  const bothTerminated = within(new Promise<void>(resolve => {
    rec.on('terminate', () => { if (rec.terminated.length === 2) resolve() })
  }), 'both channels to terminate')
  socket.disconnect()
  await bothTerminated
  t.same(rec.terminated.map(x => x.reason), ['close', 'close'])
  t.same(rec.terminated.map(x => x.topic).sort(), ['room:a', 'room:b'])
  t.equal(app.phoenix.sockets.size, 0)
})

t.test('a second phx_join of a joined topic closes the old channel, then joins, as Phoenix does', async t => {
  const rec = new EchoRecorder()
  const { endpoint } = await startServer(t, { channels: rec.routes() })
  const socket = await connectClient(t, endpoint)
  const first = socket.channel('room:a')
  await join(first)
  const closed = deferred()
  first.onClose(() => closed.resolve())
  const terminated = next(rec, 'terminate')
  const reply = deferred<unknown>()
  socket.onMessage((message: object) => {
    const { ref, payload } = message as { ref: string | null, payload: unknown }
    if (ref === 'again') reply.resolve(payload)
  })
  // phoenix.js leaves a duplicate itself (below); a second phx_join on the same connection is
  // what Phoenix's socket answers by closing the old channel (phx_close) before the new join.
  socket.push({ topic: 'room:a', event: 'phx_join', payload: {}, ref: 'again', join_ref: 'again' } as never)
  await within(closed.promise, 'phx_close of the old join at the client')
  t.same(await terminated, ['room:a', 'close'], 'the old channel terminated')
  t.same(await within(reply.promise, 'the new join\'s reply'), { status: 'ok', response: { userId: null } })
  t.equal(rec.joins.length, 2)

  // A second Channel object for a joined topic: the client leaves the first itself, then joins.
  const b1 = socket.channel('room:b')
  await join(b1)
  const left = next(rec, 'terminate')
  const b2 = socket.channel('room:b')
  t.equal((await join(b2)).status, 'ok')
  t.same(await left, ['room:b', 'leave'])
  t.same(await push(b2, 'echo', { ok: 1 }), { status: 'ok', response: { ok: 1 } })
})
