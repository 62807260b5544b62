// RoomPolicies' cache: a room's rules are read once and kept current, also between connections.
import t from 'tap'
import { RoomPolicies, type PolicySession, type RoomSettings } from '../../src/channels/room-policy.ts'
import { MemoryPubSub } from '../../src/runtime/pubsub.ts'
import { silentLogger } from '../../src/runtime/logger.ts'
import { ManualClock } from '../runtime/fixtures/clock.ts'

const SETTINGS: RoomSettings = { ownerId: 'owen', capacity: 10, locked: false, allowGrab: true, allowChat: true }

function policiesWith (keepMs = 1000): { policies: RoomPolicies, clock: ManualClock, reads: () => number, store: Map<string, RoomSettings> } {
  const clock = new ManualClock()
  const store = new Map([['r1', SETTINGS]])
  let reads = 0
  const policies = new RoomPolicies({
    loadSettings: async (roomId) => { reads++; return store.get(roomId) ?? null },
    loadMembers: async () => new Map(),
    loadBans: async () => new Map(),
    pubsub: new MemoryPubSub(),
    logger: silentLogger,
    keepMs,
    clock
  })
  return { policies, clock, reads: () => reads, store }
}

const session = (userId: string): PolicySession & { kicks: number } => ({
  userId,
  kicks: 0,
  policyChanged () {},
  kicked () { this.kicks++ }
})

t.test('the last connection leaving keeps the policy for keepMs: the next join reads nothing', async (t) => {
  const { policies, clock, reads } = policiesWith(1000)
  const first = await policies.enter('r1', session('a'))
  t.equal(reads(), 1)
  first!.leave()
  clock.advance(999)
  t.ok(policies.holds('r1'), 'kept while nobody is here')
  const second = await policies.enter('r1', session('b'))
  t.equal(reads(), 1, 'the second join read no database')
  second!.leave()
  clock.advance(999)
  t.ok(policies.holds('r1'), 'the countdown started again at the last leave')
  clock.advance(1)
  t.notOk(policies.holds('r1'), 'let go keepMs after the last leave')
  await policies.enter('r1', session('c'))
  t.equal(reads(), 2, 'read again once let go')
})

t.test('a kept policy still hears kicks and settings changes', async (t) => {
  const { policies, store, reads } = policiesWith()
  const handle = await policies.enter('r1', session('a'))
  handle!.leave()
  await policies.kick('r1', 'mallory', { by: 'owen', until: new Date(Date.now() + 60_000).toISOString() })
  const afterKick = await policies.enter('r1', session('b'))
  t.ok(afterKick!.policy.bans.has('mallory'), 'the kick heard while nobody was here')
  afterKick!.leave()
  store.set('r1', { ...SETTINGS, locked: true })
  policies.refresh('r1')
  const afterChange = await policies.enter('r1', session('c'))
  t.equal(afterChange!.policy.settings.locked, true, 'the new settings')
  t.equal(reads(), 2, 'one read at the first join, one for the change')
})

t.test('a room deleted while nobody is here is let go; with someone here its policy stays', async (t) => {
  const { policies, store } = policiesWith()
  const a = await policies.enter('r1', session('a'))
  store.delete('r1')
  policies.refresh('r1')
  await policies.settled('r1')
  t.ok(policies.holds('r1'), 'a is still in it')
  a!.leave()
  policies.refresh('r1')
  await policies.settled('r1')
  t.notOk(policies.holds('r1'))
  t.equal(await policies.enter('r1', session('b')), null, 'a join of the deleted room is refused')
})

t.test('close lets every policy go and keeps no timer', async (t) => {
  const { policies, clock } = policiesWith()
  const a = await policies.enter('r1', session('a'))
  const b = await policies.enter('r1', session('b'))
  a!.leave()
  policies.close()
  t.notOk(policies.holds('r1'))
  b!.leave()
  t.equal(clock.pending, 0, 'nothing waits after close')
})

t.test('keepMs must be a whole, non-negative number of milliseconds', async (t) => {
  for (const keepMs of [-1, 1.5, Number.NaN, Infinity]) {
    t.throws(() => policiesWith(keepMs), { name: 'TypeError', message: /"keepMs" must be a number of milliseconds/ }, String(keepMs))
  }
  t.ok(policiesWith(0).policies, '0: let go as soon as the last connection leaves')
})
