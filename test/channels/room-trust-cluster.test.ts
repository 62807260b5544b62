// Two apps sharing PostgreSQL and Redis, as two server processes would: capacity, kicks, roles
// and settings hold in both.
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildAppOptions } from '../../src/app.ts'
import { openDatabase } from '../../src/db/database.ts'
import { testSchema } from '../helpers/database.ts'
import type { Teardown } from '../phoenix/fixtures/helpers.ts'
import { Member, push, SECRET, tokenFor } from './fixtures/room-server.ts'
import { roomSummary } from '../../src/web/room-list.ts'
import { Visitor } from '../web/fixtures/helpers.ts'
import { redisTestPrefix } from '../helpers/redis.ts'

const databaseUrl = process.env.DATABASE_URL
const redisUrl = process.env.REDIS_URL
const skip = !databaseUrl ? 'needs DATABASE_URL (PostgreSQL shared by two apps)' : !redisUrl ? 'needs REDIS_URL (a Redis server)' : false
if (skip) console.log(`# skipping the two-process trust tests: ${skip}`)

const WAIT = 10_000

interface Process { app: FastifyInstance, endpoint: string }

async function twoProcesses (t: Teardown, web: BuildAppOptions['web'] = {}): Promise<{ a: Process, b: Process, roomId: string }> {
  const schema = await testSchema(t, databaseUrl!)
  const redisPrefix = redisTestPrefix(t, redisUrl)
  const start = async (): Promise<Process> => {
    const database = await openDatabase({ kind: 'postgres', url: databaseUrl!, schema })
    t.teardown(() => database.close())
    const app = await buildApp({ database, logger: false, config: { secretKeyBase: SECRET, databaseUrl, redisUrl, redisPrefix }, web })
    t.teardown(() => app.close())
    await app.listen({ port: 0, host: '127.0.0.1' })
    return { app, endpoint: `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/socket` }
  }
  const a = await start()
  const b = await start()
  const room = await a.app.rooms.createRoom({ name: 'Shared room' })
  await a.app.db.prisma.room.update({ where: { id: room.id }, data: { ownerId: 'owen' } })
  return { a, b, roomId: room.id }
}

const join = async (t: Teardown, p: Process, roomId: string, userId: string): Promise<Member> => {
  const member = new Member(t, p.endpoint, roomId, tokenFor(userId))
  const reply = await member.join()
  if (reply.status !== 'ok') throw new Error(`${userId} could not join: ${JSON.stringify(reply.response)}`)
  return member
}

t.test('two processes on Redis', { skip }, async (t) => {
  await t.test('a room full on one process is full on the other; two racing for the last place: one gets it', async (t) => {
    const { a, b, roomId } = await twoProcesses(t)
    await a.app.db.prisma.room.update({ where: { id: roomId }, data: { capacity: 3 } })
    const alice = await join(t, a, roomId, 'alice')
    await join(t, b, roomId, 'bob')

    const carol = new Member(t, a.endpoint, roomId, tokenFor('carol'))
    const dan = new Member(t, b.endpoint, roomId, tokenFor('dan'))
    const replies = await Promise.all([carol.join(), dan.join()])
    t.same(replies.map(r => r.status).sort(), ['error', 'ok'], 'exactly one of them got in')
    t.same(replies.find(r => r.status === 'error')?.response, { reason: 'room_full' })
    await alice.until('three people', () => alice.people.length === 3, WAIT)

    for (const p of [a, b]) {
      t.same(await new Member(t, p.endpoint, roomId, tokenFor('erin')).join(), { status: 'error', response: { reason: 'room_full' } }, 'full on both')
    }
    t.equal((await new Member(t, b.endpoint, roomId, tokenFor('owen')).join()).status, 'ok', 'the owner still enters')
  })

  await t.test('kick reaches every connection on both processes; the ban and a promotion hold in both', async (t) => {
    const { a, b, roomId } = await twoProcesses(t)
    const owen = await join(t, a, roomId, 'owen')
    const tabA = await join(t, a, roomId, 'sam')
    const tabB = await join(t, b, roomId, 'sam')
    const tess = await join(t, b, roomId, 'tess')

    t.same(await push(owen.channel, 'moderate', { action: 'promote', user_id: 'tess' }), { status: 'ok', response: {} })
    await tess.until('tess a moderator at tess, on the other process', () => tess.people.find(p => p.id === 'tess')?.metas[0]?.role === 'moderator', WAIT)
    await owen.until('tess a moderator at owen', () => owen.people.find(p => p.id === 'tess')?.metas[0]?.role === 'moderator', WAIT)

    const kicked = await push(tess.channel, 'moderate', { action: 'kick', user_id: 'sam' })
    t.equal(kicked.status, 'ok', 'the new moderator kicks, from the other process')
    for (const tab of [tabA, tabB]) {
      await tab.until('closed', () => tab.pushes.some(p => p.event === 'phx_close'), WAIT)
      t.same(tab.pushesOf('kicked'), [{ by: 'tess', until: kicked.response.until }])
    }
    await owen.until('sam gone', () => !owen.people.some(p => p.id === 'sam'), WAIT)
    for (const p of [a, b]) {
      t.equal((await new Member(t, p.endpoint, roomId, tokenFor('sam')).join()).response.reason, 'banned', 'banned on both')
    }
  })

  await t.test('a settings change announced on one process applies on the other at once', async (t) => {
    const { a, b, roomId } = await twoProcesses(t)
    const sam = await join(t, b, roomId, 'sam')
    t.equal((await push(sam.channel, 'new_message', { content: 'hi' })).status, 'ok')

    const heard = new Promise<void>(resolve => b.app.roomDirectory.subscribe(e => { if (e.type === 'room_updated') resolve() }))
    const room = await a.app.db.prisma.room.update({ where: { id: roomId }, data: { allowChat: false, locked: true } })
    await a.app.roomDirectory.announce({ type: 'room_updated', room: roomSummary(room) })
    await heard
    await b.app.roomPolicies.settled(roomId)
    t.same(await push(sam.channel, 'new_message', { content: 'hello?' }), { status: 'error', response: { reason: 'forbidden' } })
    t.same(await new Member(t, b.endpoint, roomId, tokenFor('tess')).join(), { status: 'error', response: { reason: 'room_locked' } })
  })

  await t.test('the room creation limit of an address is counted by both processes together', async (t) => {
    const { a, b } = await twoProcesses(t, { rateLimits: { roomCreateLimit: 3 } })
    const form = { name: 'Spam', capacity: '24', visibility: 'public' }
    const onA = new Visitor(a.app)
    const onB = new Visitor(b.app)
    const codes = [
      (await onA.post('/rooms', form)).statusCode,
      (await onB.post('/rooms', form)).statusCode,
      (await onA.post('/rooms', form)).statusCode
    ]
    t.same(codes, [303, 303, 303], 'three rooms, two of them on the first process')
    const refused = await onB.post('/rooms', form)
    t.equal(refused.statusCode, 429, 'the fourth is refused on the second process, which served only one')
    t.ok(Number(refused.headers['retry-after']) > 0, 'with Retry-After')
    t.equal((await a.app.rooms.listRooms()).filter(room => room.name === 'Spam').length, 3)
  })
})
