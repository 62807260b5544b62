import t from 'tap'
import { joinedMember, Member, push, roomServersOnOneDatabase, tokenFor } from './fixtures/room-server.ts'
import { changeSettings, makeModerator, storeSettings } from './fixtures/trust.ts'

const startRoomServer = await roomServersOnOneDatabase(t)

const WAIT = 10_000
const FORBIDDEN = { status: 'error', response: { reason: 'forbidden' } }

t.test('capacity: a full room refuses newcomers with room_full; a second tab, the owner and moderators still enter', async (t) => {
  const server = await startRoomServer(t)
  await storeSettings(server, { ownerId: 'owen', capacity: 2 })
  await makeModerator(server, 'mona')
  const alice = await joinedMember(t, server, 'alice')
  await joinedMember(t, server, 'bob')

  const carol = new Member(t, server.endpoint, server.roomId, tokenFor('carol'))
  t.same(await carol.join(), { status: 'error', response: { reason: 'room_full' } })
  t.notOk(server.stream.some(e => e.event === 'user_joined' && e.payload.user_id === 'carol'), 'carol never arrived')
  t.equal((await new Member(t, server.endpoint, server.roomId, tokenFor('bob')).join()).status, 'ok', 'bob\'s second tab is not a newcomer')
  t.equal((await new Member(t, server.endpoint, server.roomId, tokenFor('owen')).join()).status, 'ok', 'the owner enters a full room')
  t.equal((await new Member(t, server.endpoint, server.roomId, tokenFor('mona')).join()).status, 'ok', 'so does a moderator')
  await alice.until('four people', () => alice.people.length === 4, WAIT)

  await alice.leave()
  t.same(await new Member(t, server.endpoint, server.roomId, tokenFor('carol')).join(), { status: 'error', response: { reason: 'room_full' } },
    'owner and moderators count: still full')
})

t.test('capacity: a lowered capacity keeps everyone inside and applies to the next join', async (t) => {
  const server = await startRoomServer(t)
  const alice = await joinedMember(t, server, 'alice')
  await joinedMember(t, server, 'bob')
  await changeSettings(server, { capacity: 1 })
  const carol = new Member(t, server.endpoint, server.roomId, tokenFor('carol'))
  t.same(await carol.join(), { status: 'error', response: { reason: 'room_full' } })
  t.equal((await push(alice.channel, 'ping', { still: 'here' })).status, 'ok', 'nobody was ejected')
})

t.test('locked: nobody new may join, except owner and moderators; who was inside stays', async (t) => {
  const server = await startRoomServer(t)
  await storeSettings(server, { ownerId: 'owen' })
  await makeModerator(server, 'mona')
  const alice = await joinedMember(t, server, 'alice')
  await changeSettings(server, { locked: true })

  const bob = new Member(t, server.endpoint, server.roomId, tokenFor('bob'))
  t.same(await bob.join(), { status: 'error', response: { reason: 'room_locked' } })
  t.equal((await new Member(t, server.endpoint, server.roomId, tokenFor('owen')).join()).status, 'ok', 'the owner enters')
  t.equal((await new Member(t, server.endpoint, server.roomId, tokenFor('mona')).join()).status, 'ok', 'a moderator enters')
  t.equal((await push(alice.channel, 'new_message', { content: 'still here' })).status, 'ok', 'alice was not ejected')

  await changeSettings(server, { locked: false })
  t.equal((await new Member(t, server.endpoint, server.roomId, tokenFor('bob')).join()).status, 'ok', 'unlocked: bob enters')
})

t.test('allow_grab and allow_chat: refused members get forbidden and change nothing; the change is live; owner and moderators are never refused', async (t) => {
  const server = await startRoomServer(t)
  await storeSettings(server, { ownerId: 'owen' })
  await makeModerator(server, 'mona')
  const owen = await joinedMember(t, server, 'owen')
  const mona = await joinedMember(t, server, 'mona')
  const sam = await joinedMember(t, server, 'sam')
  const world = await sam.until('world', () => sam.pushesOf('entities_state')[0] as Record<string, Record<string, unknown>> | undefined)
  const [box1, box2, box3] = Object.keys(world).filter(id => world[id]?.holdable === true)
  const grab = async (member: Member, target: string): Promise<unknown> =>
    await push(member.channel, 'event', { event_name: 'user_picked_up', payload: { target_id: target, hand: 'left' } })

  t.same(await grab(sam, box1!), { status: 'ok', response: {} }, 'allowed by default')
  t.equal((await push(sam.channel, 'new_message', { content: 'hello' })).status, 'ok')

  await changeSettings(server, { allowGrab: false, allowChat: false })
  t.same(await grab(sam, box2!), FORBIDDEN, 'grab refused')
  t.same(await push(sam.channel, 'new_message', { content: 'let me speak' }), FORBIDDEN, 'chat refused')
  t.same(await push(sam.channel, 'event', { event_name: 'user_released', payload: { target_id: box1!, hand: 'left' } }), { status: 'ok', response: {} },
    'what is already held can still be let go')
  t.same(await grab(owen, box2!), { status: 'ok', response: {} }, 'the owner grabs')
  t.same(await grab(mona, box3!), { status: 'ok', response: {} }, 'a moderator grabs')
  t.equal((await push(mona.channel, 'new_message', { content: 'moderator here' })).status, 'ok', 'a moderator chats')
  await sam.until('owen holds box2 and mona box3', () => sam.entity(box2!)?.parent === 'owen:left' && sam.entity(box3!)?.parent === 'mona:left', WAIT)
  t.notOk(server.stream.some(e => e.event === 'user_picked_up' && e.payload.user_id === 'sam' && e.payload.target_id === box2), 'sam\'s refused grab never reached the room')
  t.same((await server.app.db.prisma.chatMessage.findMany({ where: { roomId: server.roomId }, orderBy: { id: 'asc' } })).map(m => m.content), ['hello', 'moderator here'])

  await changeSettings(server, { allowGrab: true, allowChat: true })
  t.same(await grab(sam, box2!), { status: 'ok', response: {} }, 'allowed again: sam takes box2 from owen')
  t.equal((await push(sam.channel, 'new_message', { content: 'thanks' })).status, 'ok')
})
