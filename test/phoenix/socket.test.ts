// PhoenixSocket driven directly, without a WebSocket, for orderings a real client cannot force.
import t from 'tap'
import type { Channel, ChannelContext, ChannelFactory, TerminateReason } from '../../src/phoenix/channel.ts'
import { ChannelRouter } from '../../src/phoenix/router.ts'
import { PhoenixSocket } from '../../src/phoenix/socket.ts'
import { captureLogger, deferred, FrameQueue, type Teardown, within } from './fixtures/helpers.ts'

interface Harness {
  socket: PhoenixSocket
  out: FrameQueue
  closes: Array<[number, string]>
  logs: Array<Record<string, unknown>>
  send: (frame: unknown[]) => void
}

function harness (t: Teardown, factory: ChannelFactory, heartbeatTimeoutMs = 60_000, onClose?: () => void): Harness {
  const out = new FrameQueue()
  const closes: Array<[number, string]> = []
  const { log, logs } = captureLogger()
  const socket = new PhoenixSocket({
    userId: 'u1',
    router: new ChannelRouter([{ pattern: 'room:*', factory }]),
    send: frame => out.add(JSON.parse(frame)),
    close: (code, reason) => { closes.push([code, reason]); onClose?.() },
    log,
    heartbeatTimeoutMs
  })
  t.teardown(() => socket.handleClose())
  return { socket, out, closes, logs, send: frame => socket.handleText(JSON.stringify(frame)) }
}

/** A channel whose parts default to "join ok, reply with nothing, record terminate". */
function channel (parts: Partial<Channel>, terminated: TerminateReason[] = []): Channel {
  return {
    join: async () => ({ status: 'ok' }),
    handleIn: async () => {},
    terminate: reason => { terminated.push(reason) },
    ...parts
  }
}

const reply = (joinRef: string | null, ref: string, topic: string, status: string, response: object): unknown[] =>
  [joinRef, ref, topic, 'phx_reply', { status, response }]

t.test('events of one topic run one at a time in order; other topics are not held up', async t => {
  const gate = deferred()
  const h = harness(t, () => channel({
    handleIn: async (event) => {
      if (event === 'slow') await gate.promise
      return { reply: { status: 'ok', response: { event } } }
    }
  }))
  h.send(['1', '1', 'room:a', 'phx_join', {}])
  h.send(['2', '2', 'room:b', 'phx_join', {}])
  t.same(await h.out.receive(), reply('1', '1', 'room:a', 'ok', {}))
  t.same(await h.out.receive(), reply('2', '2', 'room:b', 'ok', {}))

  h.send(['1', '3', 'room:a', 'slow', {}])
  h.send(['1', '4', 'room:a', 'fast', {}])
  h.send(['2', '5', 'room:b', 'fast', {}])
  t.same(await h.out.receive(), reply('2', '5', 'room:b', 'ok', { event: 'fast' }), 'room:b answers while room:a waits')
  gate.resolve()
  t.same(await h.out.receive(), reply('1', '3', 'room:a', 'ok', { event: 'slow' }))
  t.same(await h.out.receive(), reply('1', '4', 'room:a', 'ok', { event: 'fast' }))
})

t.test('a factory or join that throws is answered "join crashed" and never terminated', async t => {
  const terminated: TerminateReason[] = []
  const h = harness(t, ctx => {
    if (ctx.topic === 'room:factory') throw new Error('factory failed')
    return channel({ join: async () => { throw new Error('join failed') } }, terminated)
  })
  h.send(['1', '1', 'room:factory', 'phx_join', {}])
  t.same(await h.out.receive(), reply('1', '1', 'room:factory', 'error', { reason: 'join crashed' }))
  h.send(['2', '2', 'room:join', 'phx_join', {}])
  t.same(await h.out.receive(), reply('2', '2', 'room:join', 'error', { reason: 'join crashed' }))
  h.send(['2', '3', 'room:join', 'ev', {}])
  t.same(await h.out.receive(), reply(null, '3', 'room:join', 'error', { reason: 'unmatched topic' }), 'nothing stayed joined')
  t.same(terminated, [])
  t.equal(h.logs.filter(l => l.msg === 'channel join crashed').length, 2)
})

t.test('pushes made during join follow the join reply; close() and crash() during join follow them', async t => {
  const terminated: TerminateReason[] = []
  const h = harness(t, ctx => channel({
    join: async () => {
      ctx.push('hello', { n: 1 })
      if (ctx.topic === 'room:close') ctx.close()
      if (ctx.topic === 'room:crash') ctx.crash(new Error('bad state'))
      ctx.push('hello', { n: 2 })
      return { status: 'ok', response: { joined: true } }
    }
  }, terminated))

  h.send(['1', '1', 'room:close', 'phx_join', {}])
  t.same(await h.out.receive(), reply('1', '1', 'room:close', 'ok', { joined: true }))
  t.same(await h.out.receive(), ['1', null, 'room:close', 'hello', { n: 1 }])
  t.same(await h.out.receive(), ['1', null, 'room:close', 'hello', { n: 2 }])
  t.same(await h.out.receive(), ['1', '1', 'room:close', 'phx_close', {}])

  h.send(['2', '2', 'room:crash', 'phx_join', {}])
  t.same(await h.out.receive(), reply('2', '2', 'room:crash', 'ok', { joined: true }))
  t.same(await h.out.receive(), ['2', null, 'room:crash', 'hello', { n: 1 }])
  t.same(await h.out.receive(), ['2', null, 'room:crash', 'hello', { n: 2 }])
  t.same(await h.out.receive(), ['2', '2', 'room:crash', 'phx_error', {}])
  t.same(terminated, ['close', 'error'])
})

t.test('afterJoin runs after the reply and held pushes, before the next frame; a throw crashes the channel', async t => {
  const terminated: TerminateReason[] = []
  const gate = deferred()
  const h = harness(t, ctx => channel({
    join: async () => {
      ctx.push('held', {})
      return { status: 'ok' }
    },
    afterJoin: async () => {
      await gate.promise
      ctx.push('settled', {})
      if (ctx.topic === 'room:crash') throw new Error('settling failed')
    },
    handleIn: async (event) => ({ reply: { status: 'ok', response: { event } } })
  }, terminated))

  h.send(['1', '1', 'room:a', 'phx_join', {}])
  t.same(await h.out.receive(), reply('1', '1', 'room:a', 'ok', {}), 'the reply does not wait for afterJoin')
  t.same(await h.out.receive(), ['1', null, 'room:a', 'held', {}])
  h.send(['1', '2', 'room:a', 'ev', {}])
  h.send([null, '3', 'phoenix', 'heartbeat', {}])
  t.same(await h.out.receive(), reply(null, '3', 'phoenix', 'ok', {}), 'other topics are not held up')
  gate.resolve()
  t.same(await h.out.receive(), ['1', null, 'room:a', 'settled', {}])
  t.same(await h.out.receive(), reply('1', '2', 'room:a', 'ok', { event: 'ev' }), 'the topic\'s next frame waited for afterJoin')

  h.send(['2', '4', 'room:crash', 'phx_join', {}])
  t.same(await h.out.receive(), reply('2', '4', 'room:crash', 'ok', {}))
  t.same(await h.out.receive(), ['2', null, 'room:crash', 'held', {}])
  t.same(await h.out.receive(), ['2', null, 'room:crash', 'settled', {}])
  t.same(await h.out.receive(), ['2', '2', 'room:crash', 'phx_error', {}])
  t.same(terminated, ['error'])
  t.equal(h.logs.filter(l => l.msg === 'channel crashed after its join').length, 1)
})

t.test('an ended channel cannot push, and a reply to an event it was closed during is dropped', async t => {
  let ctx!: ChannelContext
  const h = harness(t, c => {
    ctx = c
    return channel({
      handleIn: async () => {
        c.close()
        return { reply: { status: 'ok', response: { late: true } } }
      }
    })
  })
  h.send(['1', '1', 'room:a', 'phx_join', {}])
  t.same(await h.out.receive(), reply('1', '1', 'room:a', 'ok', {}))
  ctx.pushEncoded('[null,null,"room:a","raw",{}]')
  t.same(await h.out.receive(), [null, null, 'room:a', 'raw', {}], 'pushEncoded sends the frame unchanged')

  h.send(['1', '2', 'room:a', 'ev', {}])
  t.same(await h.out.receive(), ['1', '1', 'room:a', 'phx_close', {}])
  ctx.push('after', {})
  ctx.pushEncoded('[null,null,"room:a","after",{}]')
  ctx.close()
  h.send([null, '3', 'phoenix', 'heartbeat', {}])
  t.same(await h.out.receive(), reply(null, '3', 'phoenix', 'ok', {}), 'no reply, push or second close came first')
})

t.test('a join still running when the connection closes is terminated, and queued frames are skipped', async t => {
  const joining = deferred()
  const gate = deferred()
  const terminated: TerminateReason[] = []
  const handled: string[] = []
  const h = harness(t, () => channel({
    join: async () => { joining.resolve(); await gate.promise; return { status: 'ok' } },
    handleIn: async (event) => { handled.push(event) }
  }, terminated))
  h.send(['1', '1', 'room:a', 'phx_join', {}])
  h.send(['1', '2', 'room:a', 'ev', {}])
  await within(joining.promise, 'join to start')
  const closed = h.socket.handleClose()
  gate.resolve()
  await within(closed, 'handleClose')
  await within(new Promise(resolve => setImmediate(resolve)), 'the queue to drain')
  t.same(terminated, ['close'])
  t.same(handled, [])
  t.same(h.out.pending, [], 'nothing is sent after close')
  h.send([null, '3', 'phoenix', 'heartbeat', {}])
  h.socket.handleBinary(Buffer.from([0, 1, 2]))
  t.same(h.out.pending, [], 'frames after close are ignored')
})

t.test('leave, duplicate join and odd refs behave as in Phoenix', async t => {
  const terminated: TerminateReason[] = []
  const h = harness(t, () => channel({}, terminated))
  h.send(['1', '1', 'room:a', 'phx_leave', {}])
  t.same(await h.out.receive(), reply('1', '1', 'room:a', 'ok', {}), 'leaving a topic never joined is ok')

  h.send([null, '2', 'room:a', 'phx_join', {}])
  t.same(await h.out.receive(), reply('2', '2', 'room:a', 'ok', {}), 'a join without join_ref uses its ref')
  h.send([null, null, 'room:b', 'phx_join', {}])

  h.send(['5', '5', 'room:a', 'phx_join', {}])
  t.same(await h.out.receive(), ['2', '2', 'room:a', 'phx_close', {}], 'the old join is closed first')
  t.same(await h.out.receive(), reply('5', '5', 'room:a', 'ok', {}))

  h.send(['2', '6', 'room:a', 'phx_leave', {}])
  h.send([null, '7', 'phoenix', 'heartbeat', {}])
  t.same(await h.out.receive(), reply(null, '7', 'phoenix', 'ok', {}), 'a leave of the replaced join gets no answer')

  h.send(['5', '8', 'room:a', 'phx_leave', {}])
  t.same(await h.out.receive(), reply('5', '8', 'room:a', 'ok', {}))
  t.same(await h.out.receive(), ['5', '5', 'room:a', 'phx_close', {}])
  t.same(terminated, ['close', 'leave'])
  t.ok(h.logs.some(l => l.msg === 'ignoring phx_join without ref'), 'the join without any ref was ignored')
})

t.test('a failing terminate and an unencodable reply are logged; the socket carries on', async t => {
  const h = harness(t, () => channel({
    handleIn: async () => {
      const circular: Record<string, unknown> = {}
      circular.self = circular
      return { reply: { status: 'ok', response: circular } }
    },
    terminate: () => { throw new Error('terminate failed') }
  }))
  h.send(['1', '1', 'room:a', 'phx_join', {}])
  t.same(await h.out.receive(), reply('1', '1', 'room:a', 'ok', {}))
  h.send(['1', '2', 'room:a', 'ev', {}])
  h.send(['1', '3', 'room:a', 'phx_leave', {}])
  t.same(await h.out.receive(), reply('1', '3', 'room:a', 'ok', {}))
  t.same(await h.out.receive(), ['1', '1', 'room:a', 'phx_close', {}])
  h.send([null, '4', 'phoenix', 'heartbeat', {}])
  t.same(await h.out.receive(), reply(null, '4', 'phoenix', 'ok', {}))
  t.ok(h.logs.some(l => l.msg === 'unexpected error handling a frame' && l.level === 50))
  t.ok(h.logs.some(l => l.msg === 'channel terminate failed' && l.level === 50))
})

t.test('close() closes the transport once and terminates every channel', async t => {
  const terminated: TerminateReason[] = []
  const h = harness(t, () => channel({}, terminated))
  h.send(['1', '1', 'room:a', 'phx_join', {}])
  h.send(['2', '2', 'room:b', 'phx_join', {}])
  await h.out.receive()
  await h.out.receive()
  await within(h.socket.close(4000, 'kicked'), 'close')
  await h.socket.close(4000, 'again')
  t.same(h.closes, [[4000, 'kicked']])
  t.same(terminated, ['close', 'close'])
})

t.test('a socket that sends nothing for heartbeatTimeoutMs is closed', async t => {
  const closed = deferred()
  const h = harness(t, () => channel({}), 20, closed.resolve)
  await within(closed.promise, 'the idle socket to close')
  t.same(h.closes, [[1000, 'heartbeat timeout']])
})

t.test('log lines carry the socket id and the topic; the loggers are made when the first line is', async t => {
  const { log, logs } = captureLogger()
  // pino's child loggers inherit child() from this one: it counts theirs too.
  let children = 0
  const child = log.child
  log.child = function (this: typeof log, ...args: Parameters<typeof child>) {
    children++
    return child.apply(this, args)
  } as typeof log.child
  const contexts: ChannelContext[] = []
  const out = new FrameQueue()
  const socket = new PhoenixSocket({
    userId: 'u1',
    router: new ChannelRouter([{
      pattern: 'room:*',
      factory: ctx => {
        contexts.push(ctx)
        return channel({ handleIn: async (event) => { ctx.log.info({ event }, 'channel says') } })
      }
    }]),
    send: frame => out.add(JSON.parse(frame)),
    close: () => {},
    log,
    heartbeatTimeoutMs: 60_000
  })
  t.teardown(() => socket.handleClose())
  const send = (frame: unknown[]): void => socket.handleText(JSON.stringify(frame))
  send(['1', '1', 'room:a', 'phx_join', {}])
  send(['2', '2', 'room:b', 'phx_join', {}])
  send([null, '3', 'phoenix', 'heartbeat', {}])
  t.same(await out.receive(), reply(null, '3', 'phoenix', 'ok', {}), 'heartbeats are answered at once')
  t.same(await out.receive(), reply('1', '1', 'room:a', 'ok', {}))
  t.same(await out.receive(), reply('2', '2', 'room:b', 'ok', {}))
  t.equal(children, 0, 'joins and heartbeats that log nothing make no logger')

  send(['1', '4', 'room:a', 'hello', {}])
  send(['2', '5', 'room:b', 'hello', {}])
  socket.handleText('{garbage')
  send(['1', '6', 'room:a', 'phx_leave', {}])
  send(['2', '7', 'room:b', 'phx_leave', {}])
  for (let i = 0; i < 4; i++) await out.receive()
  const lines = logs.filter(l => l.msg === 'channel says')
  t.same(lines.map(l => l.topic).sort(), ['room:a', 'room:b'])
  t.ok(lines.every(l => l.socketId === contexts[0]!.socketId && l.socketId === contexts[1]!.socketId), 'the socket id of the contexts')
  t.match(contexts[0]!.socketId, /^[0-9a-f-]{36}$/)
  t.ok(logs.some(l => l.msg === 'ignoring invalid frame' && l.socketId === contexts[0]!.socketId && !('topic' in l)), "the socket's own lines carry its id alone")
  t.equal(children, 3, 'one logger for the socket and one for each channel that logged, each made once')
})
