import t from 'tap'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { register as globalRegistry } from 'prom-client'
import databasePlugin from '../../src/db/plugin.ts'
import ops, { type OpsPluginOptions } from '../../src/ops/plugin.ts'
import runtimePlugin from '../../src/runtime/plugin.ts'
import type { RoomStats } from '../../src/runtime/rooms-supervisor.ts'
import type { RuntimeStats } from '../../src/runtime/runtime.ts'
import { databaseKind, testDatabase } from '../helpers/database.ts'

t.comment(`database: ${databaseKind()}`)

interface Teardown { teardown: (fn: () => unknown) => void }

interface OpsAppOptions {
  ops?: Partial<OpsPluginOptions>
  server?: FastifyServerOptions
  /** Also register the room runtime and feed its stats to the plugin. */
  runtime?: boolean
}

/** A minimal app: the database plugin, the ops plugin checking that database, optionally the runtime. */
async function opsApp (t: Teardown, options: OpsAppOptions = {}): Promise<FastifyInstance> {
  const database = await testDatabase(t)
  const app = Fastify({ logger: false, ...options.server })
  t.teardown(() => app.close())
  await app.register(databasePlugin, { database })
  if (options.runtime) await app.register(runtimePlugin, { rooms: app.rooms })
  await app.register(ops, {
    checkDatabase: () => app.db.prisma.$queryRaw`SELECT 1`,
    ...(options.runtime ? { runtimeStats: () => app.runtime.stats() } : {}),
    ...options.ops
  })
  await app.ready()
  return app
}

/** The value of an unlabelled sample in Prometheus text. */
function sample (text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? undefined : Number(line.slice(name.length + 1))
}

async function scrape (app: FastifyInstance): Promise<string> {
  const res = await app.inject('/metrics')
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}: ${res.body}`)
  return res.body
}

function roomStats (overrides: Partial<RoomStats>): RoomStats {
  return {
    roomId: 'r',
    status: 'running',
    members: 0,
    restarts: 0,
    subscribers: 0,
    pendingEntities: 0,
    diffsEmitted: 0,
    users: 0,
    entities: 0,
    queueDepth: 0,
    lagMs: 0,
    writes: 0,
    failures: 0,
    dropped: 0,
    merged: 0,
    pendingPoses: 0,
    ...overrides
  }
}

t.test('options are checked when the plugin registers', async (t) => {
  const register = async (opts: unknown): Promise<void> => { await Fastify({ logger: false }).register(ops, opts as OpsPluginOptions) }
  await t.rejects(register({}), { name: 'TypeError', message: /checkDatabase/ })
  await t.rejects(register({ checkDatabase: async () => {}, readinessTimeoutMs: 0 }), { name: 'TypeError', message: /readinessTimeoutMs.*got 0/ })
  await t.rejects(register({ checkDatabase: async () => {}, socketCount: 3 }), { name: 'TypeError', message: /socketCount/ })
  await t.rejects(register({ checkDatabase: async () => {}, runtimeStats: {} }), { name: 'TypeError', message: /runtimeStats/ })
})

t.test('/healthz answers while the process is up, without asking the database', async (t) => {
  let checks = 0
  const app = await opsApp(t, { ops: { checkDatabase: async () => { checks++; throw new Error('down') } } })
  const res = await app.inject('/healthz')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  t.same(res.json(), { status: 'ok' })
  t.equal(checks, 0)
})

t.test('/readyz follows the real database', async (t) => {
  const app = await opsApp(t)
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ready' })

  await app.db.close()
  const closed = await app.inject('/readyz')
  t.equal(closed.statusCode, 503)
  t.same(closed.json(), { status: 'unavailable', reason: 'database_error' })
})

t.test('/readyz is 503 when the check rejects, without telling why in the response', async (t) => {
  const app = await opsApp(t, { ops: { checkDatabase: async () => { throw new Error('connect ECONNREFUSED secret-host:5432') } } })
  const res = await app.inject('/readyz')
  t.equal(res.statusCode, 503)
  t.same(res.json(), { status: 'unavailable', reason: 'database_error' })
  t.notMatch(res.body, /secret-host/)
})

t.test('/readyz is 503 when the check hangs past the timeout; probes share one pending check', async (t) => {
  let calls = 0
  let release = (): void => {}
  const app = await opsApp(t, {
    ops: {
      readinessTimeoutMs: 100,
      checkDatabase: () => {
        calls++
        return calls === 1 ? new Promise<void>((resolve) => { release = resolve }) : Promise.resolve()
      }
    }
  })
  const started = Date.now()
  const [one, two] = await Promise.all([app.inject('/readyz'), app.inject('/readyz')])
  const elapsed = Date.now() - started
  t.ok(elapsed >= 95 && elapsed < 2000, `answered after the timeout (${elapsed} ms)`)
  for (const res of [one, two]) {
    t.equal(res.statusCode, 503)
    t.same(res.json(), { status: 'unavailable', reason: 'database_timeout' })
  }
  t.equal(calls, 1, 'the second probe waited on the first check')

  release()
  await new Promise((resolve) => setImmediate(resolve))
  const recovered = await app.inject('/readyz')
  t.equal(recovered.statusCode, 200)
  t.equal(calls, 2, 'a finished check is not reused')
})

t.test('/readyz is 503 while the room runtime closes', async (t) => {
  const app = await opsApp(t, { ops: { runtimeStats: () => ({ closing: true, registered: [], rooms: [] }) } })
  const res = await app.inject('/readyz')
  t.equal(res.statusCode, 503)
  t.same(res.json(), { status: 'unavailable', reason: 'closing' })
})

t.test('/readyz is 503 once the app starts closing, while /healthz stays 200', async (t) => {
  // Fastify answers 503 to every route during close by default; with that turned off the
  // requests reach the plugin, which must say so itself.
  const app = await opsApp(t, { server: { return503OnClosing: false } })
  const seen: Record<string, { status: number, body: unknown }> = {}
  app.addHook('preClose', async () => {
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
    for (const path of ['/readyz', '/healthz']) {
      const res = await fetch(base + path)
      seen[path] = { status: res.status, body: await res.json() }
    }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.equal((await app.inject('/readyz')).statusCode, 200, 'ready before closing')
  await app.close()
  t.same(seen, {
    '/readyz': { status: 503, body: { status: 'unavailable', reason: 'closing' } },
    '/healthz': { status: 200, body: { status: 'ok' } }
  })
})

t.test('/metrics: process metrics and gauges read from the sources at each scrape', async (t) => {
  let sockets = 3
  const stats: RuntimeStats = {
    closing: false,
    registered: ['room_server:a', 'room_server:b'],
    rooms: [
      roomStats({ roomId: 'a', members: 2, subscribers: 3, users: 4, entities: 10, restarts: 1, pendingEntities: 5, diffsEmitted: 6, queueDepth: 7, lagMs: 250, writes: 8, failures: 1, dropped: 0, merged: 2 }),
      roomStats({ roomId: 'b', members: 1, subscribers: 1, users: 1, entities: 3, restarts: 2, pendingEntities: 1, diffsEmitted: 4, queueDepth: 3, lagMs: 1500, writes: 2, failures: 2, dropped: 1, merged: 0 })
    ]
  }
  const app = await opsApp(t, { ops: { socketCount: () => sockets, runtimeStats: () => stats } })
  const res = await app.inject('/metrics')
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], app.metrics.registry.contentType)
  t.match(res.body, /^# TYPE process_cpu_user_seconds_total counter$/m)
  t.match(res.body, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m)
  t.match(res.body, /^nodejs_eventloop_lag_p99_seconds \d/m)

  const expected: Record<string, number> = {
    xr_sockets_open: 3,
    xr_runtime_closing: 0,
    xr_rooms_running: 2,
    xr_room_members: 3,
    xr_room_subscribers: 4,
    xr_room_users: 5,
    xr_room_entities: 13,
    xr_room_restarts: 3,
    xr_room_pending_entities: 6,
    xr_room_diffs_emitted: 10,
    xr_persistence_queue_depth: 10,
    xr_persistence_oldest_pending_seconds: 1.5,
    xr_persistence_writes: 10,
    xr_persistence_write_failures: 3,
    xr_persistence_dropped_diffs: 1,
    xr_persistence_merged_diffs: 2
  }
  for (const [name, value] of Object.entries(expected)) t.equal(sample(res.body, name), value, name)

  sockets = 7
  stats.rooms.pop()
  const later = await scrape(app)
  t.equal(sample(later, 'xr_sockets_open'), 7)
  t.equal(sample(later, 'xr_rooms_running'), 1)
  t.equal(sample(later, 'xr_persistence_oldest_pending_seconds'), 0.25)
})

t.test('/metrics reflects the real room runtime', async (t) => {
  const app = await opsApp(t, { runtime: true })
  t.equal(sample(await scrape(app), 'xr_rooms_running'), 0)
  const room = await app.rooms.createRoom({ name: 'metrics' }, {})
  await app.runtime.supervisor.startRoom(room.id)
  app.runtime.supervisor.memberJoined(room.id)
  app.runtime.supervisor.memberJoined(room.id)
  const running = await scrape(app)
  t.equal(sample(running, 'xr_rooms_running'), 1)
  t.equal(sample(running, 'xr_room_members'), 2)
  t.equal(sample(running, 'xr_persistence_queue_depth'), 0)

  await app.runtime.supervisor.stopRoom(room.id)
  t.equal(sample(await scrape(app), 'xr_rooms_running'), 0)
})

t.test('/metrics leaves out the gauges of sources not given', async (t) => {
  const app = await opsApp(t)
  const body = await scrape(app)
  t.notMatch(body, /^xr_sockets_open/m)
  t.notMatch(body, /^xr_rooms_running/m)
  t.match(body, /^# TYPE xr_room_events_total counter$/m, 'the recorders are there regardless')
  t.match(body, /^# TYPE xr_entities_diff_bytes histogram$/m)
})

t.test('the recorders count, and never throw on odd values', async (t) => {
  const app = await opsApp(t)
  app.metrics.roomEvent('user_moved')
  app.metrics.roomEvent('user_moved')
  app.metrics.roomEvent('not_handled')
  app.metrics.diffEmitted(100)
  app.metrics.diffEmitted(5000)
  app.metrics.diffEmitted(Number.NaN)
  app.metrics.persistLag(250)
  app.metrics.persistLag(-10)
  app.metrics.persistLag(Number.POSITIVE_INFINITY)
  const body = await scrape(app)
  t.equal(sample(body, 'xr_room_events_total{event="user_moved"}'), 2)
  t.equal(sample(body, 'xr_room_events_total{event="not_handled"}'), 1)
  t.equal(sample(body, 'xr_entities_diff_bytes_count'), 2)
  t.equal(sample(body, 'xr_entities_diff_bytes_sum'), 5100)
  t.match(body, /^xr_entities_diff_bytes_bucket\{le="256"\} 1$/m)
  t.equal(sample(body, 'xr_persistence_delay_seconds_count'), 2, 'a negative lag counts as 0, a non-finite one not at all')
  t.equal(sample(body, 'xr_persistence_delay_seconds_sum'), 0.25)
  t.match(body, /^xr_persistence_delay_seconds_bucket\{le="0.005"\} 1$/m)
})

t.test('two apps in one process share no metric', async (t) => {
  const one = await opsApp(t, { ops: { socketCount: () => 3 } })
  const two = await opsApp(t, { ops: { socketCount: () => 5 } })
  t.not(one.metrics.registry, two.metrics.registry)
  t.not(one.metrics.registry, globalRegistry)
  one.metrics.roomEvent('user_joined')
  one.metrics.roomEvent('user_joined')
  two.metrics.diffEmitted(10)
  const [a, b] = [await scrape(one), await scrape(two)]
  t.equal(sample(a, 'xr_sockets_open'), 3)
  t.equal(sample(b, 'xr_sockets_open'), 5)
  t.equal(sample(a, 'xr_room_events_total{event="user_joined"}'), 2)
  t.equal(sample(b, 'xr_room_events_total{event="user_joined"}'), undefined)
  t.equal(sample(a, 'xr_entities_diff_bytes_count'), 0)
  t.equal(sample(b, 'xr_entities_diff_bytes_count'), 1)
  t.notMatch(await globalRegistry.metrics(), /xr_/, 'nothing in the global registry')
})
