// Thousands of random and mutated frames from several sockets, while two well-behaved clients
// share the room: nothing crashes, nothing leaks, and the good clients never notice.
import t from 'tap'
import { topics } from '../../src/runtime/topics.ts'
import { joinedMember, pose, push, RawClient, startRoomServer, tokenFor } from './fixtures/room-server.ts'
import { prng } from '../helpers/prng.ts'

const FUZZERS = 5
const FRAMES_PER_FUZZER = 2000

function fuzzFrames (random: () => number, topic: string): Array<string | Buffer> {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const nested = (depth: number): unknown => depth === 0 ? 1 : { a: [nested(depth - 1)] }
  const weird = (): unknown => pick([
    null, true, -0, 1e308, -1e308, 2 ** 53 + 1, '', 'x'.repeat(5000), '\u0000', '🙂', [], {}, [[[]]],
    nested(Math.floor(random() * 400)), { __proto__: { polluted: true } }, { constructor: { prototype: {} } },
    Array.from({ length: 7 }, () => random() * 1e6 - 5e5), Array.from({ length: 1000 }, () => 0)
  ])
  const events = ['i_moved', 'event', 'new_message', 'ping', 'phx_join', 'phx_leave', 'heartbeat', 'explode', '', 'constructor', '__proto__']
  const payloads = (): unknown => pick([
    weird(),
    { pose: { head: weird(), left: weird() } },
    { pose: { head: pose(random() * 10) } },
    { event_name: pick(['user_picked_up', 'user_released', 'user_joined', 'room_reset', 'toString']), payload: { target_id: weird(), hand: pick(['left', 'right', 'tail', weird()]), position: weird() } },
    { content: weird() },
    { content: 'hello' },
    { last_seen_id: weird() }
  ])
  const frames: Array<string | Buffer> = []
  for (let i = 0; i < FRAMES_PER_FUZZER; i++) {
    const ref = String(i)
    const kind = random()
    if (kind < 0.1) frames.push(pick(['{', '[', 'null', '"x"', '[1,2,3]', ']]]', '\u0000', '{"a":', JSON.stringify(weird())]))
    else if (kind < 0.15) frames.push(Buffer.from([0, 159, 146, 150, Math.floor(random() * 256)]))
    else if (kind < 0.25) frames.push(JSON.stringify([weird(), weird(), weird(), weird(), weird()]))
    else if (kind < 0.3) frames.push(JSON.stringify([ref, ref, pick([topic, 'room:nope', 'phoenix', `${topic}x`]), pick(events), payloads()]))
    else frames.push(JSON.stringify(['1', ref, topic, pick(events), payloads()]))
  }
  return frames
}

t.test('10,000 hostile frames: no crash, no leak, the good clients keep playing', async (t) => {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => { unhandled.push(reason) }
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => { process.off('unhandledRejection', onUnhandled) })

  const server = await startRoomServer(t, { channels: { limits: { movesPerSecond: 1000 } } })
  const topic = topics.room(server.roomId)
  const observer = await joinedMember(t, server, 'olga')
  const mover = await joinedMember(t, server, 'maria')
  await observer.until('maria in the world', () => observer.entity('maria'))

  const fuzzers = await Promise.all(Array.from({ length: FUZZERS }, async (_, i) => {
    const raw = await RawClient.open(t, server.endpoint, `vsn=2.0.0&_user_token=${tokenFor(`fuzzer${i}`)}`)
    raw.send(JSON.stringify(['1', '0', topic, 'phx_join', {}]))
    return raw
  }))

  // The good client moves while the fuzzers send, in step with them.
  let moves = 0
  const sending = fuzzers.map(async (raw, i) => {
    const frames = fuzzFrames(prng(1000 + i), topic)
    for (let n = 0; n < frames.length; n++) {
      raw.ws.send(frames[n]!)
      if (i === 0 && n % 100 === 0) {
        mover.channel.push('i_moved', { pose: { head: pose(100 + moves) } })
        moves++
      }
      // Let the server read between bursts, as a real network would.
      if (n % 50 === 0) await new Promise(resolve => setImmediate(resolve))
    }
  })
  await Promise.all(sending)

  // Replies to every fuzzer frame the server could address; a heartbeat after them is a barrier.
  for (const raw of fuzzers) {
    if (raw.ws.readyState !== raw.ws.OPEN) continue
    raw.ws.send(JSON.stringify([null, 'last', 'phoenix', 'heartbeat', {}]))
  }
  const lastHead = 100 + moves - 1
  await observer.until(`maria's last move (${moves} moves)`, () => (observer.entity('maria')?.head as number[] | undefined)?.[0] === lastHead)
  t.equal(server.stream.filter(e => e.event === 'user_moved' && e.payload.user_id === 'maria').length, moves, 'every good move went through')
  t.equal(observer.pushesOf('phx_error').length + mover.pushesOf('phx_error').length, 0, 'the good channels never failed')
  t.same(await push(mover.channel, 'ping', { still: 'here' }), { status: 'ok', response: { still: 'here' } })
  t.same((await push(observer.channel, 'new_message', { content: 'all good' })).status, 'ok', 'chat still works')

  const fuzzerSockets = [...server.app.phoenix.sockets].filter(s => s.userId?.startsWith('fuzzer'))
  for (const raw of fuzzers) raw.ws.close()
  await Promise.all(fuzzers.map(raw => raw.waitClose()))
  // Until the server has finished with them too: a join may still have been running.
  await Promise.all(fuzzerSockets.map(s => s.handleClose()))
  await observer.until('only the good clients left in presence', () => observer.people.length === 2 && observer.people.every(p => ['olga', 'maria'].includes(p.id)))
  t.equal(server.app.phoenix.sockets.size, 2, 'no socket left behind')
  t.equal(server.app.runtime.pubsub.subscriberCount(topic), 1, 'one fanout subscription for the room')
  t.equal(server.app.presence.count(topic), 2)
  t.equal(server.app.roomDirectory.occupancy(server.roomId), 2)
  t.equal(server.app.runtime.stats().rooms.find(r => r.roomId === server.roomId)?.members, 2, 'the supervisor counts two members')
  t.same(unhandled, [], 'no unhandled rejection')
  t.same(server.logs.filter(l => (l.level as number) >= 50).map(l => ({ msg: l.msg, err: (l.err as { message?: string } | undefined)?.message })), [], 'nothing logged as an error: no channel crashed')
})
