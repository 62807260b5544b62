import { EventEmitter, once } from 'node:events'
import { Redis } from 'ioredis'
import t from 'tap'
import type { PresenceDiff } from '../../src/channels/presence.ts'
import { RedisPresence, type RedisPresenceOptions } from '../../src/channels/redis-presence.ts'
import { redisTestPrefix } from '../helpers/redis.ts'

const url = process.env.REDIS_URL

t.test('RedisPresence', { skip: url ? false : 'needs REDIS_URL (a Redis server)' }, async (t) => {
  const prefix = redisTestPrefix(t, url)
  const diffs: Array<[string, PresenceDiff]> = []
  const reaped = new EventEmitter()
  const make = (options: Partial<RedisPresenceOptions> = {}): RedisPresence => {
    const presence = new RedisPresence({
      url: url!,
      prefix,
      broadcast: (topic, diff) => { diffs.push([topic, diff]) },
      onReaped: (topic, key, lastForKey) => { reaped.emit('reaped', { topic, key, lastForKey }) },
      // Generous: only the fake dead process below misses heartbeats.
      timeoutMs: 2000,
      heartbeatIntervalMs: 50,
      ...options
    })
    t.teardown(() => presence.close())
    return presence
  }
  const a = make()
  const b = make()
  await Promise.all([a.started(), b.started()])

  const first = await a.track('room:1', 'alice', { username: 'Alice' })
  t.equal(first.firstForKey, true, 'alice arrives')
  const second = await b.track('room:1', 'alice', { username: 'Alice' })
  t.equal(second.firstForKey, false, 'a second tab on another process is the same presence')
  await b.track('room:1', 'bob', { username: 'Bob' })
  t.equal(await a.count('room:1'), 2)
  const state = await b.list('room:1')
  t.same(Object.keys(state).sort(), ['alice', 'bob'])
  t.equal(state.alice!.metas.length, 2)
  t.same(diffs.map(([topic, d]) => [topic, Object.keys(d.joins), Object.keys(d.leaves)]), [
    ['room:1', ['alice'], []], ['room:1', ['alice'], []], ['room:1', ['bob'], []]
  ])

  const renamed = await b.update('room:1', 'alice', second.ref, { username: 'Alicia' })
  t.not(renamed, second.ref, 'an updated meta gets a new ref')
  t.same((await a.list('room:1')).alice!.metas.map(m => m.username).sort(), ['Alice', 'Alicia'])

  t.same(await a.untrack('room:1', 'alice', first.ref), { lastForKey: false }, 'one tab left: still here')
  t.same(await a.untrack('room:1', 'alice', first.ref), { lastForKey: false }, 'untracking twice is harmless')
  t.same(await b.untrack('room:1', 'alice', renamed!), { lastForKey: true }, 'the last tab: gone')
  t.equal(await a.count('room:1'), 1)

  // A process that dies leaves its entries behind; its heartbeat expires and another removes them.
  const doomed = new Redis(url!)
  t.teardown(() => doomed.quit())
  const pid = 'dead-process'
  const meta = { phx_ref: 'r1', username: 'Carol', online_at: 1 }
  await doomed.hset(`${prefix}presence:room:1`, 'carol\nr1', JSON.stringify({ meta, pid }))
  await doomed.hincrby(`${prefix}presence_keys:room:1`, 'carol', 1)
  await doomed.sadd(`${prefix}process_entries:${pid}`, 'room:1\ncarol\nr1')
  await doomed.sadd(`${prefix}processes`, pid)
  const [event] = await once(reaped, 'reaped') as [{ topic: string, key: string, lastForKey: boolean }]
  t.same(event, { topic: 'room:1', key: 'carol', lastForKey: true }, 'removed once, by one of the survivors')
  t.same(Object.keys(await a.list('room:1')), ['bob'])
  t.ok(diffs.some(([, d]) => d.leaves.carol?.metas[0]?.phx_ref === 'r1'), 'its leave was broadcast')

  // A process that stalled past the timeout was reaped; when it comes back it is told which
  // topics it lost, so that their sockets join again.
  const lost = new EventEmitter()
  const stalled = make({ onLost: (topics) => { lost.emit('lost', topics) } })
  await stalled.started()
  const { ref } = await stalled.track('room:2', 'dan', { username: 'Dan' })
  // What the others do to a process whose heartbeat expired (whichever gets there first).
  await doomed.del(`${prefix}process:${stalled.pid}`)
  await doomed.hdel(`${prefix}presence:room:2`, `dan\n${ref}`)
  await doomed.del(`${prefix}presence_keys:room:2`, `${prefix}process_entries:${stalled.pid}`)
  const [topics] = await once(lost, 'lost') as [string[]]
  t.same(topics, ['room:2'], 'the stalled process hears which topics it lost')
  t.same(await a.list('room:2'), {}, 'dan was removed meanwhile')

  // A graceful close removes the process's own entries at once.
  await b.close()
  t.equal(await a.count('room:1'), 0)
})
