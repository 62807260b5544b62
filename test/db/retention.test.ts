import t from 'tap'
import { buildApp } from '../../src/app.ts'
import { databaseKind, testDatabase } from '../helpers/database.ts'
import { createEntity, softDeleteEntity } from '../helpers/entities.ts'

t.comment(`database: ${databaseKind()}`)

const DAY_MS = 24 * 60 * 60 * 1000

t.test('the retention pass purges avatars of users gone over 14 days and caps each room\'s chat', async (t) => {
  const database = await testDatabase(t)
  let now = Date.parse('2026-12-01T12:00:00Z')
  const app = await buildApp({ database, logger: false, config: { chatHistoryLimit: 5 }, retention: { now: () => now, intervalMs: 60 * 60 * 1000 } })
  t.teardown(() => app.close())
  const { rooms, chat, db } = app
  const room = await rooms.createRoom({ name: 'R' }, { box: { position: [0, 0, 0] } })
  const other = await rooms.createRoom({ name: 'S' }, {})
  for (const id of ['gone', 'recent', 'here']) await createEntity(db.prisma, room.id, id, { avatar: 'box', head: [0, 1.6, 0, 0, 0, 0, 1] })
  await softDeleteEntity(db.prisma, room.id, 'gone')
  await softDeleteEntity(db.prisma, room.id, 'recent')
  await softDeleteEntity(db.prisma, room.id, 'box')
  const leftAt = async (entityId: string, daysAgo: number): Promise<void> => {
    await db.prisma.$executeRaw`UPDATE components SET deleted_at = ${new Date(now - daysAgo * DAY_MS)} WHERE room_id = ${room.id} AND entity_id = ${entityId}`
  }
  await leftAt('gone', 15)
  await leftAt('recent', 13)
  await leftAt('box', 30)

  for (let i = 0; i < 8; i++) await chat.append(room.id, { userId: 'u', username: 'U', content: `m${i}` })
  for (let i = 0; i < 3; i++) await chat.append(other.id, { userId: 'u', username: 'U', content: `o${i}` })

  const report = await app.retention.runOnce()
  t.same(report, { avatarRows: 2, chatMessages: 3 })
  t.equal(await rooms.getEntityState(room.id, 'gone', { includeDeleted: true }), null, 'gone 15 days: purged')
  t.ok(await rooms.getEntityState(room.id, 'recent', { includeDeleted: true }), 'gone 13 days: kept, they may come back')
  t.ok(await rooms.getEntityState(room.id, 'here'), 'someone in the room: kept')
  t.ok(await rooms.getEntityState(room.id, 'box', { includeDeleted: true }), 'only avatars are purged')
  t.same((await chat.messagesAfter(room.id, undefined, 100)).map((m) => m.content), ['m3', 'm4', 'm5', 'm6', 'm7'], 'the newest 5 kept')
  t.equal((await chat.messagesAfter(other.id, undefined, 100)).length, 3, 'a room under the cap is untouched')

  now += 2 * DAY_MS
  t.same(await app.retention.runOnce(), { avatarRows: 2, chatMessages: 0 }, 'two days later the other one goes')
  t.equal(await rooms.getEntityState(room.id, 'recent', { includeDeleted: true }), null)
})
