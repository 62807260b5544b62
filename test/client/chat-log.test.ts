import t from 'tap'
import { ChatLog } from '../../src/client/chat-log.ts'

const msg = (id: number, content = `m${id}`) => ({ id, user_id: 'u1', username: 'Ann', content, inserted_at: '2024-01-01T00:00:00Z' })

t.test('no last_seen_id before any message', async t => {
  const log = new ChatLog()
  t.equal(log.lastSeenId, null)
  t.same(log.joinParams(), {})
})

t.test('history then live messages: last_seen_id is the highest id', async t => {
  const log = new ChatLog()
  t.same(log.addMany({ messages: [msg(3), msg(4), msg(7)] }).map(m => m.id), [3, 4, 7])
  t.ok(log.add(msg(8)))
  t.same(log.joinParams(), { last_seen_id: 8 })
})

t.test('rejoin: repeated history is dropped, only newer shown', async t => {
  const log = new ChatLog()
  log.addMany({ messages: [msg(1), msg(2)] })
  const fresh = log.addMany({ messages: [msg(2), msg(3)] })
  t.same(fresh.map(m => m.id), [3])
  t.equal(log.add(msg(3)), null, 'live duplicate dropped')
  t.equal(log.lastSeenId, 3)
})

t.test('out of order arrival keeps the max and returns history sorted', async t => {
  const log = new ChatLog()
  log.add(msg(10))
  t.same(log.addMany({ messages: [msg(9), msg(5)] }).map(m => m.id), [5, 9])
  t.equal(log.lastSeenId, 10)
})

t.test('malformed messages are ignored', async t => {
  const log = new ChatLog()
  t.equal(log.add({ id: 'x', content: 'a' }), null)
  t.equal(log.add({ id: 1 }), null)
  t.equal(log.add(null), null)
  t.same(log.addMany({ messages: 'nope' }), [])
  t.same(log.addMany(null), [])
  t.equal(log.lastSeenId, null)
  const m = log.add({ id: 2, content: 'hi', user_id: 5 })
  t.same(m, { id: 2, user_id: '5', username: '', content: 'hi', inserted_at: '' })
  t.same(log.add({ id: 3, content: 'x' })?.user_id, '')
})
