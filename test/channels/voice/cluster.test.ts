// Voice across two processes: two apps in this process sharing one PostgreSQL schema and one
// Redis (pubsub and presence), each with its own sockets, as two servers behind a load balancer.
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { buildApp } from '../../../src/app.ts'
import { openDatabase } from '../../../src/db/database.ts'
import { Rooms } from '../../../src/db/rooms.ts'
import { testSchema } from '../../helpers/database.ts'
import { Member, push, SECRET, tokenFor } from '../fixtures/room-server.ts'
import { hearVoice, offer, untilVoice } from './fixtures.ts'
import { redisTestPrefix } from '../../helpers/redis.ts'

const { DATABASE_URL, REDIS_URL } = process.env
const PATIENCE_MS = 8000

t.test('voice in a room served by two processes', {
  skip: DATABASE_URL && REDIS_URL ? false : 'needs DATABASE_URL (PostgreSQL) and REDIS_URL (Redis)'
}, async (t: Test) => {
  const schema = await testSchema(t, DATABASE_URL!)
  const prefix = redisTestPrefix(t, REDIS_URL)
  const setup = await openDatabase({ kind: 'postgres', url: DATABASE_URL!, schema })
  t.teardown(() => setup.close())
  const room = await new Rooms(setup.prisma).createRoom({ name: 'Voice across processes' })
  await setup.prisma.roomMember.create({ data: { roomId: room.id, userId: 'mona', role: 'moderator' } })

  const endpoints: string[] = []
  for (let i = 0; i < 2; i++) {
    const database = await openDatabase({ kind: 'postgres', url: DATABASE_URL!, schema })
    t.teardown(() => database.close())
    const app = await buildApp({
      database,
      logger: false,
      config: { secretKeyBase: SECRET, databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, redisPrefix: prefix, voiceMaxPeers: 3 }
    })
    t.teardown(() => app.close())
    await app.listen({ port: 0, host: '127.0.0.1' })
    endpoints.push(`ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/socket`)
  }
  const member = async (userId: string, process: number): Promise<Member> => {
    const m = hearVoice(new Member(t, endpoints[process]!, room.id, tokenFor(userId)))
    t.equal((await m.join()).status, 'ok', `${userId} joins on process ${process}`)
    return m
  }
  const alice = await member('alice', 0)
  const bob = await member('bob', 1)
  const mona = await member('mona', 0)
  const carol = await member('carol', 1)
  for (const m of [alice, bob, mona]) t.equal((await push(m.channel, 'voice_join', {})).status, 'ok')
  await untilVoice(alice, 'bob', { voice: true })
  await untilVoice(bob, 'alice', { voice: true })
  t.pass('each process sees the other\'s people in voice')

  t.same(await push(carol.channel, 'voice_join', {}), { status: 'error', response: { reason: 'voice_full' } }, 'the limit counts both processes')

  await push(alice.channel, 'voice_signal', offer('bob', 'from process 0'))
  const signal = await bob.until('the offer on process 1', () => bob.pushesOf('voice_signal')[0] as Record<string, unknown> | undefined, PATIENCE_MS)
  t.match(signal, { from: 'alice', kind: 'offer', data: { sdp: 'from process 0' } })
  await push(bob.channel, 'voice_signal', { to: 'alice', kind: 'answer', data: { type: 'answer', sdp: 'from process 1' } })
  t.match(await alice.until('the answer on process 0', () => alice.pushesOf('voice_signal')[0], PATIENCE_MS), { from: 'bob', kind: 'answer' })
  t.equal(mona.pushesOf('voice_signal').length, 0, 'no one else got either')

  t.equal((await push(mona.channel, 'moderate', { action: 'mute_voice', user_id: 'bob' })).status, 'ok')
  t.same(await bob.until('bob muted from the other process', () => bob.pushesOf('voice_ended')[0], PATIENCE_MS), { reason: 'muted_by_moderator' })
  await untilVoice(alice, 'bob', { voice: false, muted: true })
  t.match(await push(bob.channel, 'voice_join', {}), { status: 'error', response: { reason: 'voice_muted' } })
  t.equal((await push(carol.channel, 'voice_join', {})).status, 'ok', 'bob\'s place is free')
})
