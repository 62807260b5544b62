// Smoke test of the bench harness (no timing assertions): the load generator drives the ws relay
// baseline for about two seconds, and peers see each other's moves.
import t from 'tap'
import { LoadGenerator, adapterFor } from './generator/load.ts'
import { startRelay } from './servers/raw.ts'

t.test('the load generator drives the ws relay and peers see the moves', async (t) => {
  const server = await startRelay()
  t.teardown(() => server.close())
  const generator = new LoadGenerator(adapterFor({ name: 'ws-relay', port: server.port }), { roomSize: 3 })
  t.teardown(() => generator.close())

  const roomIds = await server.createRooms(2)
  const added = await generator.addUsers(roomIds)
  t.equal(added.joined, 6, 'two rooms of three users joined')

  const stats = await generator.measure(2000, 300)
  t.ok(stats.offered > 0, 'users sent moves')
  t.ok(stats.seenPairs > 0, 'peers saw moves')
  t.ok(stats.delivered > 0, 'moves reached at least one peer')
  t.equal(stats.expectedPairs, stats.offered * 2, 'each move is expected by the two peers in its room')
  t.equal(stats.lostPairs, 0, 'the relay lost nothing')
  t.ok(stats.latencyMs.count > 0, 'latencies were recorded')
  t.ok(stats.diffFrames > 0 && stats.bytes > 0, 'frames were counted')
})
