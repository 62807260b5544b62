import t from 'tap'
import { MemoryPubSub, type PubSub } from '../../src/runtime/pubsub.ts'
import { RedisPubSub } from '../../src/runtime/redis-pubsub.ts'
import { RoomDirectory, type DirectoryEvent } from '../../src/web/room-directory.ts'
import { redisTestPrefix } from '../helpers/redis.ts'

const SETTINGS = { visibility: 'public', capacity: 24, locked: false, allow_grab: true, allow_chat: true } as const

t.test('occupancy: set, read, unchanged counts are not published', async (t) => {
  const directory = new RoomDirectory()
  const events: DirectoryEvent[] = []
  directory.subscribe((event) => events.push(event))
  t.equal(directory.occupancy('a'), 0, 'unknown rooms are empty')
  directory.setOccupancy('a', 2)
  directory.setOccupancy('a', 2)
  directory.setOccupancy('a', 0)
  directory.setOccupancy('b', 0)
  t.equal(directory.occupancy('a'), 0)
  t.same(events, [
    { type: 'occupancy', room_id: 'a', count: 2 },
    { type: 'occupancy', room_id: 'a', count: 0 }
  ])
  t.throws(() => directory.setOccupancy('a', -1), TypeError)
  t.throws(() => directory.setOccupancy('a', 1.5), TypeError)
})

t.test('publish reaches every listener until it unsubscribes; a deleted room forgets its occupancy', async (t) => {
  const directory = new RoomDirectory()
  const first: DirectoryEvent[] = []
  const second: DirectoryEvent[] = []
  const unsubscribe = directory.subscribe((event) => first.push(event))
  directory.subscribe((event) => second.push(event))
  const room = { id: 'r', name: 'R', description: '', persistent: true, ...SETTINGS }
  directory.publish({ type: 'room_created', room })
  unsubscribe()
  directory.setOccupancy('r', 3)
  directory.publish({ type: 'room_deleted', room_id: 'r' })
  t.same(first, [{ type: 'room_created', room }])
  t.same(second.map((event) => event.type), ['room_created', 'occupancy', 'room_deleted'])
  t.equal(directory.occupancy('r'), 0)
})

t.test('a throwing or mutating listener does not affect the others', async (t) => {
  const errors: unknown[] = []
  const directory = new RoomDirectory({ onListenerError: (err) => errors.push(err) })
  const seen: DirectoryEvent[] = []
  directory.subscribe((event) => {
    if (event.type === 'room_created') event.room.name = 'changed'
    throw new Error('listener bug')
  })
  directory.subscribe((event) => seen.push(event))
  directory.publish({ type: 'room_created', room: { id: 'r', name: 'R', description: '', persistent: true, ...SETTINGS } })
  t.equal(errors.length, 1)
  t.same(seen, [{ type: 'room_created', room: { id: 'r', name: 'R', description: '', persistent: true, ...SETTINGS } }])
})

/** Two processes' directories on one shared pubsub, each with a listener. */
function pair (pubsubs: [PubSub, PubSub]) {
  return pubsubs.map((pubsub) => {
    const directory = new RoomDirectory({ pubsub })
    const events: DirectoryEvent[] = []
    directory.subscribe((event) => events.push(event))
    return { directory, events }
  })
}

const sharedRoom = { id: 'r1', name: 'Shared', description: '', persistent: true, ...SETTINGS }

t.test('room changes announced in one process reach the room lists of every process sharing the pubsub, once', async (t) => {
  const pubsub = new MemoryPubSub()
  const [a, b] = pair([pubsub, pubsub])
  await a!.directory.announce({ type: 'room_created', room: sharedRoom })
  await b!.directory.announce({ type: 'room_deleted', room_id: 'r1' })
  const expected = [{ type: 'room_created', room: sharedRoom }, { type: 'room_deleted', room_id: 'r1' }]
  t.same(a!.events, expected)
  t.same(b!.events, expected)
  await pubsub.broadcast('room_directory', { type: 'occupancy', room_id: 'r1', count: 99 })
  await pubsub.broadcast('room_directory', 'garbage')
  t.equal(a!.events.length, 2, 'occupancy is counted by each process itself, and junk is ignored')
  a!.directory.close()
  await b!.directory.announce({ type: 'room_updated', room: sharedRoom })
  t.equal(a!.events.length, 2, 'a closed directory hears no more')
  t.equal(b!.events.length, 3)
})

t.test('an announcement the pubsub cannot carry still reaches this process', async (t) => {
  const failing: PubSub = {
    subscribe: () => () => {},
    broadcast: async () => { throw new Error('redis is down') },
    subscriberCount: () => 0
  } as unknown as PubSub
  const errors: unknown[] = []
  const directory = new RoomDirectory({ pubsub: failing, onShareError: (err) => errors.push(err) })
  const events: DirectoryEvent[] = []
  directory.subscribe((event) => events.push(event))
  await directory.announce({ type: 'room_created', room: sharedRoom })
  t.same(events, [{ type: 'room_created', room: sharedRoom }])
  t.match(errors, [{ message: 'redis is down' }])
})

t.test('across processes through Redis', { skip: process.env.REDIS_URL ? false : 'needs REDIS_URL (a Redis server)' }, async (t) => {
  const prefix = redisTestPrefix(t)
  const pubsubs = [0, 1].map(() => new RedisPubSub({ url: process.env.REDIS_URL!, prefix })) as [RedisPubSub, RedisPubSub]
  t.teardown(() => Promise.all(pubsubs.map((p) => p.close())))
  // Everything published before a marker has arrived once the marker is back.
  const settle = async (pubsub: RedisPubSub): Promise<void> => {
    const off = pubsub.subscribe('__settle', () => {})
    await pubsub.broadcast('__settle', 0)
    off()
  }
  const [a, b] = pair(pubsubs)
  await Promise.all(pubsubs.map(settle))
  await a!.directory.announce({ type: 'room_created', room: sharedRoom })
  t.same(a!.events, [{ type: 'room_created', room: sharedRoom }], 'the announcing process hears it back')
  await b!.directory.announce({ type: 'room_updated', room: { ...sharedRoom, name: 'Renamed' } })
  await Promise.all(pubsubs.map(settle))
  t.same(a!.events.map((e) => e.type), ['room_created', 'room_updated'], 'each process hears both, in order')
  t.same(b!.events, a!.events)
})
