import t from 'tap'
import { Chat } from '../../src/db/chat.ts'
import { Rooms } from '../../src/db/rooms.ts'
import { testDatabase } from '../helpers/database.ts'

const db = await testDatabase(t)
const rooms = new Rooms(db.prisma)
const chat = new Chat(db.prisma)

t.test('messages come back oldest first and resume after the last seen id', async (t) => {
  const room = await rooms.createRoom({ name: 'Chat' }, {})
  const other = await rooms.createRoom({ name: 'Other' }, {})
  const sent = []
  for (let i = 0; i < 60; i++) sent.push(await chat.append(room.id, { userId: 'u1', username: 'ann', content: `m${i}` }))
  await chat.append(other.id, { userId: 'u2', username: 'bob', content: 'elsewhere' })

  const latest = await chat.messagesAfter(room.id)
  t.equal(latest.length, 50)
  t.same(latest.map((m) => m.content), sent.slice(10).map((m) => m.content), 'the last 50, oldest first')
  t.match(latest[0], { user_id: 'u1', username: 'ann', inserted_at: /^\d{4}-\d\d-\d\dT/ })

  const resumed = await chat.messagesAfter(room.id, sent[57].id)
  t.same(resumed.map((m) => m.content), ['m58', 'm59'], 'nothing missed, nothing repeated')
  t.same(await chat.messagesAfter(room.id, sent[59].id), [])
})
