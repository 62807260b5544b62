import t from 'tap'
import { signUserToken } from '../../src/phoenix/token.ts'
import { joinedMember, Member, push, roomServersOnOneDatabase, SECRET, tokenFor } from './fixtures/room-server.ts'
import { makeModerator, storeSettings } from './fixtures/trust.ts'

const startRoomServer = await roomServersOnOneDatabase(t)

const WAIT = 10_000
const roleOf = (member: Member, userId: string): string | undefined => member.people.find(p => p.id === userId)?.metas[0]?.role

t.test('presence metas carry each role; promote and demote change it for everyone; only the owner may', async (t) => {
  const server = await startRoomServer(t)
  await storeSettings(server, { ownerId: 'owen' })
  await makeModerator(server, 'mona')
  const owen = await joinedMember(t, server, 'owen')
  const mona = await joinedMember(t, server, 'mona')
  const sam = await joinedMember(t, server, 'sam')
  await sam.until('three people', () => sam.people.length === 3, WAIT)
  t.same([roleOf(sam, 'owen'), roleOf(sam, 'mona'), roleOf(sam, 'sam')], ['owner', 'moderator', 'member'])

  t.same(await push(mona.channel, 'moderate', { action: 'promote', user_id: 'sam' }), { status: 'error', response: { reason: 'forbidden' } }, 'a moderator may not promote')
  t.same(await push(sam.channel, 'moderate', { action: 'promote', user_id: 'sam' }), { status: 'error', response: { reason: 'forbidden' } }, 'nor promote oneself')
  t.same(await push(owen.channel, 'moderate', { action: 'promote', user_id: 'sam' }), { status: 'ok', response: {} })
  await mona.until('sam a moderator at mona', () => roleOf(mona, 'sam') === 'moderator', WAIT)
  await sam.until('sam a moderator at sam', () => roleOf(sam, 'sam') === 'moderator', WAIT)
  t.ok(mona.presenceDiffs.some(d => (d.joins.sam as { metas: Array<{ role: string }> } | undefined)?.metas[0]?.role === 'moderator'), 'a presence_diff carried the new role')
  const row = await server.app.db.prisma.roomMember.findUnique({ where: { roomId_userId: { roomId: server.roomId, userId: 'sam' } } })
  t.equal(row?.role, 'moderator', 'stored in room_members')

  t.same(await push(owen.channel, 'moderate', { action: 'demote', user_id: 'mona' }), { status: 'ok', response: {} })
  await sam.until('mona a member at sam', () => roleOf(sam, 'mona') === 'member', WAIT)
  t.same(await push(mona.channel, 'moderate', { action: 'mute_chat', user_id: 'sam' }), { status: 'error', response: { reason: 'forbidden' } }, 'a demoted moderator may no longer moderate')
})

t.test('strangers are refused every action; nobody acts on the owner, nor a moderator on another; bad payloads get a clear answer', async (t) => {
  const server = await startRoomServer(t)
  await storeSettings(server, { ownerId: 'owen' })
  await makeModerator(server, 'mona')
  await makeModerator(server, 'max')
  const owen = await joinedMember(t, server, 'owen')
  const mona = await joinedMember(t, server, 'mona')
  await joinedMember(t, server, 'max')
  const sam = await joinedMember(t, server, 'sam')
  await joinedMember(t, server, 'tess')

  for (const action of ['kick', 'mute_chat', 'unmute_chat', 'promote', 'demote']) {
    t.same(await push(sam.channel, 'moderate', { action, user_id: 'tess' }), { status: 'error', response: { reason: 'forbidden' } }, `a member may not ${action}`)
    t.same(await push(mona.channel, 'moderate', { action, user_id: 'owen' }), { status: 'error', response: { reason: 'forbidden' } }, `a moderator may not ${action} the owner`)
    t.same(await push(mona.channel, 'moderate', { action, user_id: 'max' }), { status: 'error', response: { reason: 'forbidden' } }, `nor ${action} another moderator`)
  }
  t.same(await push(owen.channel, 'moderate', { action: 'kick', user_id: 'owen' }), { status: 'error', response: { reason: 'forbidden' } }, 'not even the owner')
  t.same(await push(owen.channel, 'moderate', { action: 'ban_forever', user_id: 'sam' }), { status: 'error', response: { reason: 'unknown action' } })
  t.same(await push(owen.channel, 'moderate', { action: 'constructor', user_id: 'sam' }), { status: 'error', response: { reason: 'unknown action' } })
  t.same(await push(owen.channel, 'moderate', { action: 'kick' }), { status: 'error', response: { reason: 'invalid moderate payload' } })
  t.same(await push(owen.channel, 'moderate', { action: 'kick', user_id: 'sam', extra: 1 }), { status: 'error', response: { reason: 'invalid moderate payload' } })
  t.same(await push(sam.channel, 'delete_message', { id: 1 }), { status: 'error', response: { reason: 'forbidden' } }, 'a member may not delete messages')
  t.equal(await server.app.db.prisma.roomBan.count({ where: { roomId: server.roomId } }), 0, 'nothing was banned')
  t.equal(await server.app.db.prisma.roomMember.count({ where: { roomId: server.roomId } }), 2, 'nothing was stored but the moderators')
  t.same(await server.app.db.prisma.roomMember.findMany({ where: { roomId: server.roomId }, select: { userId: true, role: true, chatMuted: true }, orderBy: { userId: 'asc' } }),
    [{ userId: 'max', role: 'moderator', chatMuted: false }, { userId: 'mona', role: 'moderator', chatMuted: false }], 'max is still an unmuted moderator')
})

t.test('kick: every connection of the user is told why and until when, then closed; a rejoin is refused until the ban runs out (injected clock)', async (t) => {
  let now = Date.parse('2026-12-01T12:00:00.000Z')
  const moderation = { banMs: 10 * 60_000, now: () => now }
  const server = await startRoomServer(t, { channels: { moderation } })
  await storeSettings(server, { ownerId: 'owen' })
  await makeModerator(server, 'mona')
  await joinedMember(t, server, 'owen', 'Owen')
  const mona = await joinedMember(t, server, 'mona', 'Mona')
  const tab1 = await joinedMember(t, server, 'sam')
  const tab2 = await joinedMember(t, server, 'sam')
  const tess = await joinedMember(t, server, 'tess')

  const until = '2026-12-01T12:10:00.000Z'
  t.same(await push(mona.channel, 'moderate', { action: 'kick', user_id: 'sam' }), { status: 'ok', response: { until } })
  for (const tab of [tab1, tab2]) {
    await tab.until('closed', () => tab.pushes.some(p => p.event === 'phx_close'), WAIT)
    const events = tab.pushes.map(p => p.event)
    t.same(tab.pushesOf('kicked'), [{ by: 'Mona', until }], 'told who and until when')
    t.ok(events.indexOf('kicked') < events.indexOf('phx_close'), 'told before the close')
  }
  await tess.until('sam gone', () => !tess.people.some(p => p.id === 'sam'), WAIT)
  t.equal(tess.pushesOf('kicked').length, 0, 'nobody else is told')

  const again = new Member(t, server.endpoint, server.roomId, tokenFor('sam'))
  t.same(await again.join(), { status: 'error', response: { reason: 'banned', until } })

  now += 10 * 60_000 - 1
  const stillBanned = new Member(t, server.endpoint, server.roomId, tokenFor('sam'))
  t.same(await stillBanned.join(), { status: 'error', response: { reason: 'banned', until } }, 'banned until the last millisecond')
  now += 1
  t.equal((await new Member(t, server.endpoint, server.roomId, tokenFor('sam')).join()).status, 'ok', 'welcome back when the ban ran out')
})

t.test('a ban is stored: a new app on the same database refuses the kicked user', async (t) => {
  const server = await startRoomServer(t)
  await storeSettings(server, { ownerId: 'owen' })
  const owen = await joinedMember(t, server, 'owen')
  const sam = await joinedMember(t, server, 'sam')
  t.equal((await push(owen.channel, 'moderate', { action: 'kick', user_id: 'sam' })).status, 'ok')
  await sam.until('closed', () => sam.pushes.some(p => p.event === 'phx_close'), WAIT)
  await server.app.close()

  const restarted = await startRoomServer(t, { reuse: server })
  const again = new Member(t, restarted.endpoint, server.roomId, tokenFor('sam'))
  const reply = await again.join()
  t.equal(reply.status, 'error')
  t.equal(reply.response.reason, 'banned')
  t.equal((await new Member(t, restarted.endpoint, server.roomId, tokenFor('tess')).join()).status, 'ok', 'others still enter')
})

t.test('mute_chat refuses the user\'s messages until unmute_chat; moderators are never refused', async (t) => {
  const server = await startRoomServer(t)
  await storeSettings(server, { ownerId: 'owen' })
  await makeModerator(server, 'mona')
  const owen = await joinedMember(t, server, 'owen')
  const mona = await joinedMember(t, server, 'mona')
  const sam = await joinedMember(t, server, 'sam')

  t.same(await push(mona.channel, 'moderate', { action: 'mute_chat', user_id: 'sam' }), { status: 'ok', response: {} })
  t.same(await push(sam.channel, 'new_message', { content: 'spam' }), { status: 'error', response: { reason: 'muted' } })
  t.equal(await server.app.db.prisma.chatMessage.count(), 0, 'nothing stored')
  t.same(await push(owen.channel, 'moderate', { action: 'mute_chat', user_id: 'mona' }), { status: 'ok', response: {} })
  t.equal((await push(mona.channel, 'new_message', { content: 'still here' })).status, 'ok', 'a muted moderator still speaks')
  t.same(await push(owen.channel, 'moderate', { action: 'unmute_chat', user_id: 'sam' }), { status: 'ok', response: {} })
  t.equal((await push(sam.channel, 'new_message', { content: 'sorry' })).status, 'ok')
  await owen.until('sam\'s apology', () => owen.messages.some(m => m.content === 'sorry'), WAIT)
  t.same(owen.messages.map(m => m.content), ['still here', 'sorry'])
})

t.test('delete_message: owner and moderators delete, everyone is told, a later join no longer gets it', async (t) => {
  const server = await startRoomServer(t)
  await storeSettings(server, { ownerId: 'owen' })
  await makeModerator(server, 'mona')
  const mona = await joinedMember(t, server, 'mona')
  const sam = await joinedMember(t, server, 'sam')
  const bad = (await push(sam.channel, 'new_message', { content: 'rude' })).response.message as { id: number }
  await push(sam.channel, 'new_message', { content: 'nice' })

  t.same(await push(sam.channel, 'delete_message', { id: bad.id }), { status: 'error', response: { reason: 'forbidden' } }, 'not even one\'s own')
  t.same(await push(mona.channel, 'delete_message', { id: bad.id }), { status: 'ok', response: { id: bad.id } })
  await sam.until('message_deleted at sam', () => sam.pushesOf('message_deleted').length === 1, WAIT)
  t.same(sam.pushesOf('message_deleted'), [{ id: bad.id }])
  t.same(await push(mona.channel, 'delete_message', { id: bad.id }), { status: 'error', response: { reason: 'message_not_found' } }, 'gone already')
  t.same(await push(mona.channel, 'delete_message', { id: 'x' }), { status: 'error', response: { reason: 'invalid delete_message payload' } })
  const row = await server.app.db.prisma.chatMessage.findUnique({ where: { id: BigInt(bad.id) } })
  t.ok(row?.deletedAt, 'deleted_at set')

  const owen = await joinedMember(t, server, 'owen')
  await owen.until('history', () => owen.pushesOf('messages').length === 1, WAIT)
  t.same(owen.messages.map(m => m.content), ['nice'], 'deleted messages are not sent on join')
})

t.test('an admin (the token says so) has the owner\'s powers in any room, passes a ban, a lock and a full room, and nobody acts on them', async (t) => {
  const server = await startRoomServer(t)
  await storeSettings(server, { ownerId: 'owen', capacity: 2, locked: true })
  await makeModerator(server, 'mona')
  await server.app.db.prisma.roomBan.create({ data: { roomId: server.roomId, userId: 'ada', bannedBy: 'owen', until: new Date(Date.now() + 60_000) } })
  const owen = await joinedMember(t, server, 'owen')
  const mona = await joinedMember(t, server, 'mona')
  t.same(await new Member(t, server.endpoint, server.roomId, tokenFor('sam')).join(), { status: 'error', response: { reason: 'room_locked' } }, 'a member is kept out')
  t.same((await new Member(t, server.endpoint, server.roomId, tokenFor('ada')).join()).response.reason, 'banned', 'ada without the admin claim is banned')

  const ada = new Member(t, server.endpoint, server.roomId, signUserToken(SECRET, 'ada', { username: 'Ada', admin: true }))
  t.equal((await ada.join()).status, 'ok', 'ada as an admin enters a locked, full room she is banned from')
  await owen.until('ada an admin at owen', () => roleOf(owen, 'ada') === 'admin', WAIT)

  t.same(await push(ada.channel, 'moderate', { action: 'promote', user_id: 'tess' }), { status: 'ok', response: {} }, 'an admin promotes, as the owner does')
  t.same(await push(ada.channel, 'moderate', { action: 'demote', user_id: 'mona' }), { status: 'ok', response: {} })
  await owen.until('mona a member', () => roleOf(owen, 'mona') === 'member', WAIT)
  t.same(await push(ada.channel, 'moderate', { action: 'kick', user_id: 'owen' }), { status: 'error', response: { reason: 'forbidden' } }, 'not even an admin acts on the owner')
  for (const action of ['kick', 'mute_chat']) {
    t.same(await push(owen.channel, 'moderate', { action, user_id: 'ada' }), { status: 'error', response: { reason: 'forbidden' } }, `the owner may not ${action} an admin`)
  }
  t.same(await push(mona.channel, 'moderate', { action: 'kick', user_id: 'ada' }), { status: 'error', response: { reason: 'forbidden' } })
  t.equal(await server.app.db.prisma.roomBan.count({ where: { roomId: server.roomId, userId: 'ada', bannedBy: { not: 'owen' } } }), 0, 'no ban was stored for ada')
  t.equal((await push(ada.channel, 'moderate', { action: 'kick', user_id: 'mona' })).status, 'ok', 'an admin kicks')
  await mona.until('mona kicked', () => mona.pushesOf('kicked').length === 1, WAIT)
  t.same(mona.pushesOf('kicked').map(k => (k as { by: string }).by), ['Ada'])
})
