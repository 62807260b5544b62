import { Redis } from 'ioredis'
import t from 'tap'
import { RedisPubSub } from '../../src/runtime/redis-pubsub.ts'
import { pubsubContract } from './fixtures/pubsub-contract.ts'
import { redisTestPrefix } from '../helpers/redis.ts'

const url = process.env.REDIS_URL
type Teardown = { teardown: (fn: () => unknown) => void }
const prefix = (t: Teardown): string => redisTestPrefix(t, url)

/** A RedisPubSub (one "process") on the given prefix, closed in teardown. */
function make (t: Teardown, on = prefix(t)): RedisPubSub {
  const pubsub = new RedisPubSub({ url: url!, prefix: on })
  t.teardown(() => pubsub.close())
  return pubsub
}

/** Everything `pubsub` broadcast so far has come back: a marker made the round trip behind it. */
async function settle (pubsub: RedisPubSub): Promise<void> {
  const off = pubsub.subscribe('__settle', () => {})
  await pubsub.broadcast('__settle', 0)
  off()
}

t.test('RedisPubSub', { skip: url ? false : 'needs REDIS_URL (a Redis server)' }, async (t) => {
  t.test('contract', async (t) => {
    let last: RedisPubSub | null = null
    pubsubContract(t, () => (last = make(t)), async () => { if (last) await settle(last) })
  })

  t.test('two processes on one prefix see both processes\' messages in one order', async (t) => {
    const on = prefix(t)
    const a = make(t, on)
    const b = make(t, on)
    const seenA: unknown[] = []
    const seenB: unknown[] = []
    a.subscribe('room:1', (m) => { seenA.push(m) })
    b.subscribe('room:1', (m) => { seenB.push(m) })
    await Promise.all([settle(a), settle(b)])
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).broadcast('room:1', { i })))
    await Promise.all([settle(a), settle(b)])
    t.equal(seenA.length, 20)
    t.same(seenB, seenA, 'the same order in both')
    t.same(seenA.filter((m) => (m as { i: number }).i % 2 === 0), Array.from({ length: 10 }, (_, i) => ({ i: 2 * i })), 'each sender\'s order kept')
    t.equal(a.subscriberCount('room:1'), 1, 'subscriberCount counts this process only')
    const other = make(t)
    const foreign: unknown[] = []
    other.subscribe('room:1', (m) => { foreign.push(m) })
    await a.broadcast('room:1', 'x')
    await settle(other)
    t.same(foreign, [], 'another prefix is another world')
  })

  t.test('a reply to a request is never missed when the requester subscribed first', async (t) => {
    const on = prefix(t)
    const owner = make(t, on)
    const requester = make(t, on)
    owner.subscribe('requests', (m) => { void owner.broadcast(`replies:${String(m)}`, `answer ${String(m)}`) })
    await settle(owner)
    const replies: unknown[] = []
    for (let i = 0; i < 20; i++) {
      // No waiting in between: the request is published only once the SUBSCRIBE took effect.
      requester.subscribe(`replies:${i}`, (m) => { replies.push(m) })
      await requester.broadcast('requests', i)
    }
    await settle(owner)
    await settle(requester)
    t.equal(replies.length, 20)
  })

  t.test('broadcast resolves when local subscribers have the message, and without any', async (t) => {
    const a = make(t)
    const seen: unknown[] = []
    a.subscribe('t', (m) => { seen.push(m) })
    const sent = a.broadcast('t', 'x')
    t.same(seen, [])
    await sent
    t.same(seen, ['x'])
    await a.broadcast('nobody here', { x: 1 })
  })

  t.test('the subscriber connection dropped: broadcasts still resolve, and delivery resumes', async (t) => {
    const on = prefix(t)
    const a = new RedisPubSub({ url: url!, prefix: on, echoTimeoutMs: 200 })
    t.teardown(() => a.close())
    const admin = new Redis(url!)
    t.teardown(() => admin.quit())
    const seen: unknown[] = []
    a.subscribe('t', (m) => { seen.push(m) })
    await a.broadcast('t', 'before')
    const clients = String(await admin.client('LIST'))
    const id = new RegExp(`id=(\\d+) [^\\n]*name=${on}pubsub-sub`).exec(clients)?.[1]
    t.ok(id, 'the subscriber connection is named')
    await admin.client('KILL', 'ID', id!)
    // Sent while the connection is down or being restored: resolved by its echo or by the timeout.
    for (let i = 0; !seen.includes(`after ${i - 1}`); i++) await a.broadcast('t', `after ${i}`)
    t.same(seen[0], 'before')
    t.pass('messages are delivered again after the reconnection')
  })

  t.test('close: later broadcasts reject, subscribing is a no-op, closing again is harmless', async (t) => {
    const a = make(t)
    a.subscribe('t', () => {})
    await a.close()
    await a.close()
    await t.rejects(a.broadcast('t', 1), /closed/)
    t.equal(a.subscriberCount('t'), 0)
    a.subscribe('t', () => {})()
  })
})
