import t from 'tap'
import { buildApp } from '../src/app.ts'
import { assertDatabaseShareable, loadConfig } from '../src/config.ts'
import { databaseTarget } from '../src/db/adapter.ts'

t.test('REDIS_URL without DATABASE_URL: the server refuses to start', async (t) => {
  t.throws(() => assertDatabaseShareable(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' })), { code: 'XR_ERR_EMBEDDED_DATABASE_SHARED' })
  t.doesNotThrow(() => assertDatabaseShareable(loadConfig({ REDIS_URL: 'redis://h:1', DATABASE_URL: 'postgresql://u@h/db' })))
  t.doesNotThrow(() => assertDatabaseShareable(loadConfig({})))
  await t.rejects(buildApp({ logger: false, config: { redisUrl: 'redis://127.0.0.1:6379', databaseUrl: undefined } }),
    { code: 'XR_ERR_EMBEDDED_DATABASE_SHARED' }, 'before opening anything')
})

t.test('Redis settings', async (t) => {
  const defaults = loadConfig({})
  t.equal(defaults.redisUrl, undefined)
  t.equal(defaults.redisPrefix, 'xr:')
  t.equal(defaults.roomLeaseMs, 2000)
  t.equal(defaults.processTimeoutMs, 5000)
  const set = loadConfig({ REDIS_URL: 'redis://h:1', REDIS_PREFIX: 'a:', ROOM_LEASE_MS: '3000', PROCESS_TIMEOUT_MS: '1500' })
  t.same([set.redisUrl, set.redisPrefix, set.roomLeaseMs, set.processTimeoutMs], ['redis://h:1', 'a:', 3000, 1500])
  t.throws(() => loadConfig({ ROOM_LEASE_MS: '50' }), /ROOM_LEASE_MS/)
  t.throws(() => loadConfig({ PROCESS_TIMEOUT_MS: 'soon' }), /PROCESS_TIMEOUT_MS/)
})

t.test('DATABASE_URL may name a schema (?schema=), as Prisma\'s URLs do', async (t) => {
  t.same(databaseTarget('postgresql://u@h:5432/db?schema=s1&sslmode=disable', '/d'),
    { kind: 'postgres', url: 'postgresql://u@h:5432/db?sslmode=disable', schema: 's1' })
  t.same(databaseTarget('postgresql://u@h:5432/db', '/d'), { kind: 'postgres', url: 'postgresql://u@h:5432/db' })
  t.same(databaseTarget(undefined, '/d'), { kind: 'pglite', dataDir: '/d', thread: false })
  t.same(databaseTarget(undefined, '/d', { thread: true }), { kind: 'pglite', dataDir: '/d', thread: true }, 'the server runs it in a thread')
  t.throws(() => databaseTarget('postgresql://u@h/db?schema=a%22b', '/d'), /invalid schema/)
})
