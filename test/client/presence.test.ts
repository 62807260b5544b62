import t from 'tap'
import { personFromPresence } from '../../src/client/presence.ts'

t.test('personFromPresence: newest named meta wins, sessions counted', async t => {
  t.same(personFromPresence('u1', { metas: [{ username: 'Old', phx_ref: 'a' }, { username: 'New', phx_ref: 'b' }] }),
    { id: 'u1', username: 'New', sessions: 2, role: 'member', voiceSession: null, muted: false })
})

t.test('personFromPresence: missing or odd metas', async t => {
  t.same(personFromPresence('u2', {}), { id: 'u2', username: 'anonymous', sessions: 1, role: 'member', voiceSession: null, muted: false })
  t.same(personFromPresence('u3', { metas: [{ username: 42 }, { username: '' }] }), { id: 'u3', username: 'anonymous', sessions: 2, role: 'member', voiceSession: null, muted: false })
})

t.test('personFromPresence: the newest meta\'s role; an unknown role is a member', async t => {
  t.equal(personFromPresence('u4', { metas: [{ username: 'A', role: 'member' }, { username: 'A', role: 'moderator' }] }).role, 'moderator')
  t.equal(personFromPresence('u5', { metas: [{ username: 'A', role: 'superuser' }] }).role, 'member')
  t.equal(personFromPresence('u6', { metas: [{ username: 'A', role: 'admin' }] }).role, 'admin', 'a server admin in the room')
})

t.test('personFromPresence: the connection in voice gives the voice session and muted', async t => {
  const tabs = [{ username: 'A', phx_ref: 'a', voice: false, muted: false }, { username: 'A', phx_ref: 'b2', voice: true, muted: true, voice_session: 'b' }]
  t.match(personFromPresence('u4', { metas: tabs }), { voiceSession: 'b', muted: true })
  t.match(personFromPresence('u5', { metas: [{ username: 'B', phx_ref: 'c', voice: false, muted: true }] }), { voiceSession: null, muted: true }, 'muted by a moderator, out of voice')
})
