import t from 'tap'
import { RoomDirectory, type DirectoryEvent } from '../../src/web/room-directory.ts'

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
  const room = { id: 'r', name: 'R', description: '', persistent: true }
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
  directory.publish({ type: 'room_created', room: { id: 'r', name: 'R', description: '', persistent: true } })
  t.equal(errors.length, 1)
  t.same(seen, [{ type: 'room_created', room: { id: 'r', name: 'R', description: '', persistent: true } }])
})
