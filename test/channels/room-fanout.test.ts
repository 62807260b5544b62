import t from 'tap'
import Fastify from 'fastify'
import { RoomFanout } from '../../src/channels/room-fanout.ts'
import { MemoryPubSub } from '../../src/runtime/pubsub.ts'

const log = Fastify({ logger: false }).log

function member (): { frames: string[], pushEncoded: (frame: string) => void } {
  const frames: string[] = []
  return { frames, pushEncoded: (frame) => frames.push(frame) }
}

t.test('one subscription per topic, one encoded frame shared by every member', async (t) => {
  const pubsub = new MemoryPubSub()
  const fanout = new RoomFanout(pubsub, log)
  const a = member()
  const b = member()
  fanout.add('room:1', a).ready()
  fanout.add('room:1', b).ready()
  t.equal(pubsub.subscriberCount('room:1'), 1)
  await pubsub.broadcast('room:1', { event: 'entities_diff', payload: { creates: {} } })
  t.same(a.frames, ['[null,null,"room:1","entities_diff",{"creates":{}}]'])
  t.equal(a.frames[0], b.frames[0])
})

t.test('every relayed frame is reported with its size and recipients', async (t) => {
  const pubsub = new MemoryPubSub()
  const frames: Array<[string, number, number]> = []
  const fanout = new RoomFanout(pubsub, log, (event, bytes, recipients) => frames.push([event, bytes, recipients]))
  fanout.add('room:1', member()).ready()
  fanout.add('room:1', member()).ready()
  await pubsub.broadcast('room:1', { event: 'entities_diff', payload: { creates: {} } })
  t.same(frames, [['entities_diff', '[null,null,"room:1","entities_diff",{"creates":{}}]'.length, 2]])
})

t.test('frames for a member that is not ready yet are held, in order', async (t) => {
  const pubsub = new MemoryPubSub()
  const fanout = new RoomFanout(pubsub, log)
  const a = member()
  const subscription = fanout.add('room:1', a)
  await pubsub.broadcast('room:1', { event: 'one', payload: {} })
  await pubsub.broadcast('room:1', { event: 'two', payload: {} })
  t.same(a.frames, [], 'held')
  subscription.ready()
  await pubsub.broadcast('room:1', { event: 'three', payload: {} })
  t.same(a.frames.map(f => JSON.parse(f)[3]), ['one', 'two', 'three'])
})

t.test('the last member to leave unsubscribes; malformed broadcasts are dropped', async (t) => {
  const pubsub = new MemoryPubSub()
  const fanout = new RoomFanout(pubsub, log)
  const a = member()
  const b = member()
  const subA = fanout.add('room:1', a)
  const subB = fanout.add('room:1', b)
  subA.ready()
  subB.ready()
  await pubsub.broadcast('room:1', { nonsense: true })
  t.same(a.frames, [])
  subA.remove()
  subA.remove()
  t.same(fanout.members('room:1'), [b])
  subB.remove()
  t.equal(pubsub.subscriberCount('room:1'), 0)
  t.same(fanout.members('room:1'), [])
})
