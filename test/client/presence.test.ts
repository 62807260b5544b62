import t from 'tap'
import { personFromPresence } from '../../src/client/presence.ts'

t.test('personFromPresence: newest named meta wins, sessions counted', async t => {
  t.same(personFromPresence('u1', { metas: [{ username: 'Old', phx_ref: 'a' }, { username: 'New', phx_ref: 'b' }] }),
    { id: 'u1', username: 'New', sessions: 2 })
})

t.test('personFromPresence: missing or odd metas', async t => {
  t.same(personFromPresence('u2', {}), { id: 'u2', username: 'anonymous', sessions: 1 })
  t.same(personFromPresence('u3', { metas: [{ username: 42 }, { username: '' }] }), { id: 'u3', username: 'anonymous', sessions: 2 })
})
