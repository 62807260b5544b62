import t from 'tap'
import { signUserToken } from '../../../src/phoenix/token.ts'
import { joinedMember, Member, push, roomServersOnOneDatabase, SECRET, type RoomServer } from '../fixtures/room-server.ts'
import { SDP_MAX_LENGTH } from '../../../src/channels/voice/payloads.ts'
import { hearVoice, metasOf, offer, untilVoice } from './fixtures.ts'

const startRoomServer = await roomServersOnOneDatabase(t)

const inVoice = async (t: Parameters<typeof joinedMember>[0], server: RoomServer, userId: string) => {
  const member = hearVoice(await joinedMember(t, server, userId))
  const reply = await push(member.channel, 'voice_join', {})
  if (reply.status !== 'ok') throw new Error(`${userId} could not join voice: ${JSON.stringify(reply.response)}`)
  return member
}

t.test('a signal reaches only its addressee, with the sender the server knows', async (t) => {
  const server = await startRoomServer(t)
  const alice = await inVoice(t, server, 'alice')
  const bob = await inVoice(t, server, 'bob')
  const carol = await inVoice(t, server, 'carol')
  await untilVoice(carol, 'alice', { voice: true, muted: false })
  t.same(metasOf(carol, 'bob').map((m) => [m.voice, m.muted]), [[true, false]], 'presence metas carry voice and muted')

  t.same(await push(alice.channel, 'voice_signal', offer('bob', 'sdp for bob')), { status: 'ok', response: {} })
  const got = await bob.until('the offer at bob', () => bob.pushesOf('voice_signal')[0] as Record<string, unknown> | undefined)
  t.same({ ...got, from_session: typeof got.from_session }, { from: 'alice', from_session: 'string', kind: 'offer', data: { type: 'offer', sdp: 'sdp for bob' } })
  t.equal(got.from_session, metasOf(bob, 'alice')[0]?.voice_session, 'from_session is the sender\'s voice session, as in presence')

  const forged = await push(carol.channel, 'voice_signal', { ...offer('bob'), from: 'alice' })
  t.equal(forged.status, 'error', 'a payload naming its sender is refused')
  t.equal(forged.response.reason, 'invalid signal')

  await push(alice.channel, 'voice_signal', { to: 'carol', kind: 'candidate', data: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } })
  const atCarol = await carol.until('a signal at carol', () => carol.pushesOf('voice_signal')[0] as Record<string, unknown> | undefined)
  t.equal(atCarol.kind, 'candidate', 'carol\'s first signal is the one for her: bob\'s offer never reached her')
  t.equal(alice.pushesOf('voice_signal').length, 0, 'the sender gets nothing back')
  t.equal(bob.pushesOf('voice_signal').length, 1)
})

t.test('signals are validated and limited', async (t) => {
  let now = 0
  const server = await startRoomServer(t, { channels: { voice: { limits: { signalsPerSecond: 2, signalBurst: 3 }, now: () => now } } })
  const alice = hearVoice(await joinedMember(t, server, 'alice'))
  const bob = await inVoice(t, server, 'bob')
  const dave = await joinedMember(t, server, 'dave')

  t.match(await push(alice.channel, 'voice_signal', offer('bob')), { status: 'error', response: { reason: 'not_in_voice' } }, 'not from outside voice')
  await push(alice.channel, 'voice_join', {})
  const reason = async (payload: object) => (await push(alice.channel, 'voice_signal', payload)).response.reason
  t.equal(await reason(offer('dave')), 'peer_not_in_voice', 'not to someone outside voice')
  t.equal(await reason(offer('nobody')), 'peer_not_in_voice', 'not to someone outside the room')
  now += 10_000
  t.equal(await reason(offer('alice')), 'invalid signal', 'not to yourself')
  t.equal(await reason(offer('bob', 'x'.repeat(SDP_MAX_LENGTH + 1))), 'invalid signal', 'not an SDP over 16 KB')
  now += 10_000
  t.equal(await reason({ to: 'bob', kind: 'offer', data: { type: 'answer', sdp: 'v=0' } }), 'invalid signal', 'an offer must hold an offer')
  t.equal(await reason({ to: 'bob', kind: 'bye', data: {} }), 'invalid signal', 'no other kind')
  t.equal(await reason({ to: 'bob', kind: 'candidate', data: { candidate: 'c', extra: 1 } }), 'invalid signal', 'no other field')
  now += 10_000

  const results = []
  for (let i = 0; i < 5; i++) results.push((await push(alice.channel, 'voice_signal', offer('bob'))).status)
  t.same(results, ['ok', 'ok', 'ok', 'error', 'error'], 'a burst of 3, then refused')
  t.equal(await reason(offer('bob')), 'rate_limited')
  now += 1000
  t.equal((await push(alice.channel, 'voice_signal', offer('bob'))).status, 'ok', 'refilled at 2 per second')
  await bob.until('4 offers at bob', () => bob.pushesOf('voice_signal').length === 4)
  t.equal(dave.pushesOf('voice_signal').length, 0)

  await push(alice.channel, 'voice_leave', {})
  t.equal(await reason(offer('bob')), 'not_in_voice', 'nothing after leaving voice')
  t.match(await push(alice.channel, 'voice_mute', { muted: 'yes' }), { status: 'error', response: { reason: 'invalid mute payload' } })
})

t.test('voice is full at VOICE_MAX_PEERS people; a second tab of one person counts once', async (t) => {
  const server = await startRoomServer(t, { config: { voiceMaxPeers: 2 } })
  const alice = await inVoice(t, server, 'alice')
  const aliceTab = hearVoice(await joinedMember(t, server, 'alice'))
  const bob = await inVoice(t, server, 'bob')
  const carol = hearVoice(await joinedMember(t, server, 'carol'))
  t.same(await push(carol.channel, 'voice_join', {}), { status: 'error', response: { reason: 'voice_full' } })
  t.equal((await push(aliceTab.channel, 'voice_join', {})).status, 'ok', 'alice\'s other tab takes her place')
  const ended = await alice.until('the first tab leaves voice', () => alice.pushesOf('voice_ended')[0])
  t.same(ended, { reason: 'joined_elsewhere' })
  await untilVoice(carol, 'alice', { voice: true })
  await carol.until('one alice tab in voice', () => metasOf(carol, 'alice').filter((m) => m.voice === true).length === 1)

  await push(bob.channel, 'voice_signal', offer('alice'))
  await aliceTab.until('the offer at the tab in voice', () => aliceTab.pushesOf('voice_signal').length === 1)
  t.equal(alice.pushesOf('voice_signal').length, 0, 'not at the tab that left voice')

  await push(bob.channel, 'voice_leave', {})
  t.equal((await push(carol.channel, 'voice_join', {})).status, 'ok', 'a place freed')
  await untilVoice(alice, 'bob', { voice: false })
})

t.test('owner, admins and moderators mute and unmute voice of those they outrank; a muted user cannot join voice', async (t) => {
  const server = await startRoomServer(t)
  const prisma = server.app.db.prisma
  await prisma.room.update({ where: { id: server.roomId }, data: { ownerId: 'olivia' } })
  await prisma.roomMember.createMany({ data: ['mona', 'max'].map((userId) => ({ roomId: server.roomId, userId, role: 'moderator' })) })
  const olivia = await joinedMember(t, server, 'olivia')
  const mona = await inVoice(t, server, 'mona')
  const max = await inVoice(t, server, 'max')
  const ada = new Member(t, server.endpoint, server.roomId, signUserToken(SECRET, 'ada', { username: 'Ada', admin: true }))
  t.equal((await ada.join()).status, 'ok')
  const bob = await inVoice(t, server, 'bob')
  const alice = await inVoice(t, server, 'alice')
  const moderate = async (by: typeof mona, action: string, userId: string) => await push(by.channel, 'moderate', { action, user_id: userId })

  t.match(await moderate(alice, 'mute_voice', 'bob'), { status: 'error', response: { reason: 'forbidden' } }, 'a member may not')
  t.match(await moderate(mona, 'mute_voice', 'olivia'), { status: 'error', response: { reason: 'forbidden' } }, 'a moderator may not mute the owner')
  t.match(await moderate(mona, 'mute_voice', 'mona'), { status: 'error', response: { reason: 'forbidden' } }, 'nor themselves')
  t.match(await moderate(mona, 'mute_voice', 'max'), { status: 'error', response: { reason: 'forbidden' } }, 'nor another moderator')
  t.match(await moderate(olivia, 'mute_voice', 'ada'), { status: 'error', response: { reason: 'forbidden' } }, 'nobody mutes an admin, not even the owner')
  t.match(await moderate(mona, 'shout', 'bob'), { status: 'error' }, 'an unknown action')
  t.match(await moderate(mona, 'mute_voice', '../etc'), { status: 'error', response: { reason: 'invalid moderate payload' } })

  t.same(await moderate(mona, 'mute_voice', 'bob'), { status: 'ok', response: { user_id: 'bob', voice_muted: true } })
  t.same(await bob.until('bob told', () => bob.pushesOf('voice_ended')[0]), { reason: 'muted_by_moderator' })
  t.same(bob.pushesOf('voice_moderated'), [{ muted: true, by: 'mona' }])
  await untilVoice(alice, 'bob', { voice: false, muted: true })
  t.pass('the others see bob out of voice and muted')
  t.match(await push(bob.channel, 'voice_join', {}), { status: 'error', response: { reason: 'voice_muted' } }, 'bob may not join voice')
  t.match(await push(bob.channel, 'voice_signal', offer('alice')), { status: 'error', response: { reason: 'not_in_voice' } }, 'nor signal')
  t.match(await push(alice.channel, 'voice_signal', offer('bob')), { status: 'error', response: { reason: 'peer_not_in_voice' } }, 'nor be signaled')
  t.match(await moderate(bob, 'mute_voice', 'mona'), { status: 'error', response: { reason: 'forbidden' } })

  await bob.leave()
  const again = hearVoice(await joinedMember(t, server, 'bob'))
  await untilVoice(alice, 'bob', { voice: false, muted: true })
  t.pass('the mute outlives the visit')
  t.match(await push(again.channel, 'voice_join', {}), { status: 'error', response: { reason: 'voice_muted' } })

  t.equal((await moderate(olivia, 'unmute_voice', 'bob')).status, 'ok', 'the owner unmutes')
  t.same(await again.until('bob told', () => again.pushesOf('voice_moderated')[0]), { muted: false, by: 'olivia' })
  await untilVoice(alice, 'bob', { voice: false, muted: false })
  t.equal((await push(again.channel, 'voice_join', {})).status, 'ok', 'bob joins voice again')
  t.equal((await moderate(olivia, 'mute_voice', 'mona')).status, 'ok', 'the owner may mute a moderator')
  t.equal((await prisma.roomMember.findUnique({ where: { roomId_userId: { roomId: server.roomId, userId: 'mona' } } }))?.voiceMuted, true, 'kept in room_members')
  t.same(await moderate(ada, 'mute_voice', 'max'), { status: 'ok', response: { user_id: 'max', voice_muted: true } }, 'an admin may, as the owner')
  t.same(await max.until('max told', () => max.pushesOf('voice_ended')[0]), { reason: 'muted_by_moderator' })
})

t.test('self-mute shows in presence', async (t) => {
  const server = await startRoomServer(t)
  const alice = await inVoice(t, server, 'alice')
  const bob = await inVoice(t, server, 'bob')
  t.same(await push(alice.channel, 'voice_mute', { muted: true }), { status: 'ok', response: { muted: true } })
  await untilVoice(bob, 'alice', { voice: true, muted: true })
  await push(alice.channel, 'voice_mute', { muted: false })
  await untilVoice(bob, 'alice', { voice: true, muted: false })
  t.pass('muted, then unmuted, as the others see it')
})

t.test('the voice_join reply carries ICE servers with TURN credentials minted for the user', async (t) => {
  const server = await startRoomServer(t, {
    config: {
      iceServers: [{ urls: 'stun:stun.example.org:3478' }, { urls: ['turn:turn.example.org:3478?transport=udp'], username: 'shared', credential: 'shared' }],
      turnSecret: 'coturn-secret',
      turnTtlSeconds: 600
    },
    channels: { voice: { now: () => 1_700_000_000_000 } }
  })
  const alice = await joinedMember(t, server, 'alice')
  const reply = await push(alice.channel, 'voice_join', {})
  t.same(reply.response.ice_servers, [
    { urls: 'stun:stun.example.org:3478' },
    { urls: ['turn:turn.example.org:3478?transport=udp'], username: '1700000600:alice', credential: '8Zt76pY/GwZYxlHeUJh4n/vxoKo=' }
  ])
  t.equal(reply.response.max_peers, 8)
})
