import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { MemoryRoomLeases, RedisRoomLeases } from '../../src/runtime/room-leases.ts'
import { ManualClock } from './fixtures/clock.ts'
import { roomLeasesContract } from './fixtures/room-leases-contract.ts'
import { redisTestPrefix } from '../helpers/redis.ts'

const url = process.env.REDIS_URL

t.test('MemoryRoomLeases', async (t) => {
  roomLeasesContract(t, (_t, ttlMs) => {
    const clock = new ManualClock()
    const leases = new MemoryRoomLeases({ clock, holder: 'a', ttlMs })
    return { as: (holder) => leases.as(holder), outlive: async () => { clock.advance(ttlMs + 1) } }
  }, 1000)

  t.test('holder and expire, for tests of the processes sharing them', async (t) => {
    const clock = new ManualClock()
    const a = new MemoryRoomLeases({ clock, holder: 'a', ttlMs: 1000 })
    const b = a.as('b')
    const lease = await a.acquire('r')
    t.equal(b.holder('r'), 'a', 'seen from every view')
    clock.advance(1000)
    t.equal(a.holder('r'), 'a', 'held until the clock is past its expiry, as in Redis')
    t.equal(await a.renew(lease!), true)
    b.expire('r')
    t.equal(a.holder('r'), undefined)
    t.equal(await a.renew(lease!), false)
    t.same(await b.acquire('r'), { roomId: 'r', token: 2 })
  })
})

t.test('RedisRoomLeases', { skip: url ? false : 'needs REDIS_URL (a Redis server)' }, async (t) => {
  // The scripts run in Redis for real; each test has keys of its own, deleted afterwards.
  roomLeasesContract(t, (t, ttlMs) => {
    const prefix = redisTestPrefix(t, url)
    const views = new Map<string, RedisRoomLeases>()
    t.teardown(() => Promise.all([...views.values()].map((leases) => leases.close())))
    const as = (holder: string): RedisRoomLeases => {
      let leases = views.get(holder)
      if (!leases) views.set(holder, leases = new RedisRoomLeases({ url: url!, prefix, holder, ttlMs }))
      return leases
    }
    return { as, outlive: async () => { await sleep(ttlMs + 150) } }
  }, 250)
})
