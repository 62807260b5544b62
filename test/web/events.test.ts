import { setTimeout as sleep } from 'node:timers/promises'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { DirectoryStream, sseFrame, type RoomOccupancy } from '../../src/web/directory-stream.ts'
import { RoomDirectory } from '../../src/web/room-directory.ts'
import { databaseKind } from '../helpers/database.ts'
import { Visitor, webApp } from './fixtures/helpers.ts'
import { SseClient } from './fixtures/sse-client.ts'

t.comment(`database: ${databaseKind()}`)

async function listening (app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

async function until (what: string, check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited > 3000) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

// A form post sends only the boxes that are checked.
const UNCHECKED = { visibility: 'public', capacity: 24, locked: false, allow_grab: false, allow_chat: false }
const DEFAULTS = { visibility: 'public', capacity: 24, locked: false, allow_grab: true, allow_chat: true }

t.test('sseFrame writes one event block', async (t) => {
  t.equal(sseFrame('occupancy', { a: 'line\nbreak' }), 'event: occupancy\ndata: {"a":"line\\nbreak"}\n\n', 'newlines stay escaped in data')
})

t.test('/rooms/events: snapshot, then room_created after POST /rooms, then occupancy', async (t) => {
  const app = await webApp(t, { sseHeartbeatMs: 60_000 })
  const lobby = await app.rooms.createRoom({ name: 'Lobby', description: 'Hi' }, {})
  app.roomDirectory.setOccupancy(lobby.id, 2)
  const base = await listening(app)

  const client = await SseClient.open(`${base}/rooms/events`)
  t.teardown(() => client.close())
  t.equal(client.response.statusCode, 200)
  t.equal(client.response.headers['content-type'], 'text/event-stream; charset=utf-8')
  t.equal(client.response.headers['cache-control'], 'no-cache, no-transform')
  t.ok(client.response.headers['content-security-policy'], 'security headers on the stream too')

  t.same(await client.next(), { retry: 3000 }, 'a reconnect delay first')
  t.same(await client.next(), {
    event: 'snapshot',
    data: { rooms: [{ id: lobby.id, name: 'Lobby', description: 'Hi', persistent: true, ...DEFAULTS, occupancy: 2 }] }
  }, 'then every room with its occupancy')

  const visitor = new Visitor(app)
  const created = await visitor.post('/rooms', { name: 'Atrium', description: 'Bright' })
  t.equal(created.statusCode, 303)
  const id = String(created.headers.location).split('/').pop()!
  t.same(await client.next(), {
    event: 'room_created',
    data: { type: 'room_created', room: { id, name: 'Atrium', description: 'Bright', persistent: false, ...UNCHECKED } }
  })

  app.roomDirectory.setOccupancy(id, 1)
  t.same(await client.next(), { event: 'occupancy', data: { type: 'occupancy', room_id: id, count: 1 } })
  app.roomDirectory.setOccupancy(id, 1)
  app.roomDirectory.setOccupancy(id, 0)
  t.same(await client.next(), { event: 'occupancy', data: { type: 'occupancy', room_id: id, count: 0 } }, 'unchanged counts are not sent')

  await visitor.post(`/rooms/${id}`, { name: 'Atrium 2', persistent: 'true' })
  t.same(await client.next(), {
    event: 'room_updated',
    data: { type: 'room_updated', room: { id, name: 'Atrium 2', description: '', persistent: true, ...UNCHECKED } }
  })
  await visitor.post(`/rooms/${id}/delete`)
  t.same(await client.next(), { event: 'room_deleted', data: { type: 'room_deleted', room_id: id } })
})

t.test('heartbeats are comments at the configured interval', async (t) => {
  const app = await webApp(t, { sseHeartbeatMs: 30 })
  const base = await listening(app)
  const client = await SseClient.open(`${base}/rooms/events`)
  t.teardown(() => client.close())
  t.equal((await client.nextEvent())?.event, 'snapshot')
  t.same(await client.next(), { comment: 'heartbeat' })
  t.same(await client.next(), { comment: 'heartbeat' })
})

t.test('closing the app ends open streams instead of hanging', async (t) => {
  const app = await webApp(t)
  const base = await listening(app)
  const client = await SseClient.open(`${base}/rooms/events`)
  t.equal((await client.nextEvent())?.event, 'snapshot')
  const started = Date.now()
  await app.close()
  t.ok(Date.now() - started < 2000, 'closed promptly')
  t.equal(await client.next(), null, 'the client saw the end of the stream')
})

t.test('DirectoryStream: a disconnecting client is unsubscribed; events during the snapshot are kept', async (t) => {
  const directory = new RoomDirectory()
  const server = Fastify()
  const stream = new DirectoryStream({ directory, heartbeatMs: 60_000, log: server.log })
  let release = (): void => {}
  server.get('/events', async (_request, reply) => await stream.open(reply, async () => {
    // Something is published while the rooms are being read.
    directory.setOccupancy('a', 5)
    await new Promise<void>((resolve) => { release = resolve })
    return [{ id: 'a', name: 'A', description: '', persistent: true, ...DEFAULTS, occupancy: 4 }] as RoomOccupancy[]
  }))
  t.teardown(async () => { stream.close(); await server.close() })
  const base = await listening(server)

  const clientPromise = SseClient.open(`${base}/events`)
  await until('the client to connect', () => stream.size === 1)
  release()
  const client = await clientPromise
  t.equal((await client.nextEvent())?.event, 'snapshot')
  t.same(await client.nextEvent(), { event: 'occupancy', data: { type: 'occupancy', room_id: 'a', count: 5 } },
    'the event published during the snapshot follows it')

  client.close()
  await until('the stream to drop the client', () => stream.size === 0)
  directory.setOccupancy('a', 6)
  t.equal(stream.size, 0, 'publishing after the disconnect writes to nobody')
})

t.test('DirectoryStream: a failing snapshot sends an error response and keeps no client', async (t) => {
  const directory = new RoomDirectory()
  const server = Fastify({ logger: false })
  const stream = new DirectoryStream({ directory, heartbeatMs: 60_000, log: server.log })
  server.get('/events', async (_request, reply) => await stream.open(reply, async () => { throw new Error('db down') }))
  t.teardown(async () => { stream.close(); await server.close() })
  const res = await server.inject({ url: '/events' })
  t.equal(res.statusCode, 500)
  t.equal(stream.size, 0)
})
