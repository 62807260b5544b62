import t from 'tap'
import { signUserToken } from '../../src/phoenix/token.ts'
import type { EntitiesDiff } from '../../src/shared/world.ts'
import { ManualClock } from '../runtime/fixtures/clock.ts'
import { deferred } from '../phoenix/fixtures/helpers.ts'
import { Visitor } from '../web/fixtures/helpers.ts'
import { joinedMember, Member, pose, push, RawClient, roomServersOnOneDatabase, SECRET, tokenFor } from './fixtures/room-server.ts'

const startRoomServer = await roomServersOnOneDatabase(t)

const isUpdateOf = (id: string) => (diff: EntitiesDiff): boolean => id in (diff.updates ?? {})

t.test('join: ok with a token, unauthorized without or with a forged one, room_not_found for an unknown room', async (t) => {
  const server = await startRoomServer(t)
  const alice = new Member(t, server.endpoint, server.roomId, tokenFor('alice'))
  t.same(await alice.join(), { status: 'ok', response: { user_id: 'alice', username: 'alice' } })

  const anonymous = new Member(t, server.endpoint, server.roomId, null)
  t.same(await anonymous.join(), { status: 'error', response: { reason: 'unauthorized' } })
  const forged = new Member(t, server.endpoint, server.roomId, signUserToken('another-secret-key-base-0123456789-0123456789', 'alice'))
  t.same(await forged.join(), { status: 'error', response: { reason: 'unauthorized' } })

  const lost = new Member(t, server.endpoint, 'no-such-room', tokenFor('bob'))
  t.same(await lost.join(), { status: 'error', response: { reason: 'room_not_found' } })

  const bad = new Member(t, server.endpoint, server.roomId, tokenFor('bob'), () => ({ last_seen_id: 'yesterday' }))
  const reply = await bad.join()
  t.equal(reply.status, 'error')
  t.equal(reply.response.reason, 'invalid join params')
})

t.test('entities_state holds the room: its spawn point and ground', async (t) => {
  const server = await startRoomServer(t)
  const alice = await joinedMember(t, server, 'alice')
  const world = await alice.until('entities_state', () => alice.pushesOf('entities_state')[0] as Record<string, Record<string, unknown>> | undefined)
  const entities = Object.values(world)
  t.ok(entities.some(c => c.spawn_point === true && Array.isArray(c.position)), 'a spawn point')
  t.ok(entities.some(c => Array.isArray(c.mesh_builder) && c.mesh_builder[0] === 'ground'), 'the ground')
  t.equal(entities.filter(c => c.holdable === true).length, 10, 'the holdable boxes')
  t.equal(alice.pushes[0]?.event, 'entities_state', 'the first push after the join')
})

t.test('two clients see each other arrive: entities_diff creates and presence joins', async (t) => {
  const server = await startRoomServer(t)
  const alice = await joinedMember(t, server, 'alice', 'Alice')
  await alice.until('alice sees her own avatar', () => alice.entity('alice'))
  const bob = await joinedMember(t, server, 'bob', 'Bob')

  const bobAsSeenByAlice = await alice.until('bob created at alice', () => alice.diffs.find(d => d.creates?.bob)?.creates?.bob)
  t.equal(bobAsSeenByAlice.avatar, 'box')
  t.equal(bobAsSeenByAlice.username, 'Bob')
  t.equal((bobAsSeenByAlice.head as number[]).length, 7, 'a head pose')
  t.ok(await bob.until('alice in bob\'s world', () => bob.entity('alice')), 'bob gets alice in entities_state')

  await alice.until('bob in alice\'s presence', () => alice.people.some(p => p.id === 'bob'))
  t.ok(alice.presenceDiffs.some(d => 'bob' in d.joins), 'a presence_diff join for bob')
  const people = await bob.until('two people at bob', () => bob.people.length === 2 && bob.people)
  t.same(people.map(p => [p.id, p.metas.map(m => m.username)]).sort(), [['alice', ['Alice']], ['bob', ['Bob']]])
  t.equal(server.app.roomDirectory.occupancy(server.roomId), 2, 'the room list counts two people')
})

t.test('a move reaches the other client as an entities_diff update within two sync intervals', async (t) => {
  const clock = new ManualClock()
  const server = await startRoomServer(t, { runtime: { clock, syncIntervalMs: 50 } })
  const alice = await joinedMember(t, server, 'alice')
  const bob = await joinedMember(t, server, 'bob')
  await server.streamed(e => e.event === 'user_joined' && e.payload.user_id === 'bob')
  clock.advance(50)
  await alice.until('bob created at alice', () => alice.entity('bob'))

  bob.channel.push('i_moved', { pose: { head: pose(3), left: pose(2.5), right: pose(3.5) } })
  const moved = await server.streamed(e => e.event === 'user_moved')
  t.same(moved.payload, { head: pose(3), left: pose(2.5), right: pose(3.5), user_id: 'bob' })
  t.equal(alice.diffs.filter(isUpdateOf('bob')).length, 0, 'nothing before the interval ends')
  clock.advance(50)
  clock.advance(50)
  const update = await alice.until('bob\'s move at alice', () => alice.diffs.find(isUpdateOf('bob')))
  t.same(update.updates?.bob, { head: pose(3), left: pose(2.5), right: pose(3.5) })
})

t.test('two tabs of one user are one presence with two metas; closing one is not a departure', async (t) => {
  const server = await startRoomServer(t)
  const observer = await joinedMember(t, server, 'olga')
  const tab1 = await joinedMember(t, server, 'alice')
  const tab2 = await joinedMember(t, server, 'alice')
  const alice = await observer.until('alice with two metas', () => observer.people.find(p => p.id === 'alice' && p.metas.length === 2))
  t.not(alice.metas[0]?.phx_ref, alice.metas[1]?.phx_ref, 'one meta per connection')
  t.equal(server.stream.filter(e => e.event === 'user_joined' && e.payload.user_id === 'alice').length, 1, 'one user_joined')
  t.equal(server.app.roomDirectory.occupancy(server.roomId), 2, 'two people, not three')

  await tab1.disconnect()
  await observer.until('alice down to one meta', () => observer.people.find(p => p.id === 'alice' && p.metas.length === 1))
  // A later event on the same stream: a user_left for alice would have come before it.
  tab2.channel.push('i_moved', { pose: { head: pose(1) } })
  await server.streamed(e => e.event === 'user_moved' && e.payload.user_id === 'alice')
  t.notOk(server.stream.some(e => e.event === 'user_left'), 'no user_left while a tab is open')
  await observer.until('alice still moving at the observer', () => observer.diffs.find(isUpdateOf('alice')))
  t.ok(observer.entity('alice'), 'alice\'s avatar stays')
})

t.test('leaving sends deletes and presence leaves; a rejoining user resumes the pose they left with', async (t) => {
  const server = await startRoomServer(t)
  const observer = await joinedMember(t, server, 'olga')
  const alice = await joinedMember(t, server, 'alice')
  alice.channel.push('i_moved', { pose: { head: pose(7.5) } })
  await observer.until('alice moved at the observer', () => (observer.entity('alice')?.head as number[] | undefined)?.[0] === 7.5)

  await alice.leave()
  await observer.until('alice deleted', () => observer.diffs.some(d => 'alice' in (d.deletes ?? {})))
  t.notOk(observer.entity('alice'), 'gone from the world')
  await observer.until('alice gone from presence', () => !observer.people.some(p => p.id === 'alice'))
  t.ok(observer.presenceDiffs.some(d => 'alice' in d.leaves), 'a presence_diff leave')
  t.equal(server.app.roomDirectory.occupancy(server.roomId), 1)

  const again = await joinedMember(t, server, 'alice')
  const created = await observer.until('alice back', () => observer.diffs.filter(d => d.creates?.alice).at(1)?.creates?.alice)
  t.same(created.head, pose(7.5), 'resumed where she left')
  await again.until('alice sees herself', () => again.entity('alice'))
})

t.test('a user resumes their pose after the room restarted (from the database)', async (t) => {
  const server = await startRoomServer(t)
  const alice = await joinedMember(t, server, 'alice')
  alice.channel.push('i_moved', { pose: { head: pose(-4) } })
  await alice.until('own move applied', () => (alice.entity('alice')?.head as number[] | undefined)?.[0] === -4)
  await alice.disconnect()
  await server.streamed(e => e.event === 'user_left')
  await server.app.runtime.supervisor.stopRoom(server.roomId)

  const back = await joinedMember(t, server, 'alice')
  const me = await back.until('alice recreated', () => back.entity('alice'))
  t.same(me.head, pose(-4))
})

t.test('chat: round trip, validation, and resume by last_seen_id without gaps or repeats', async (t) => {
  const server = await startRoomServer(t)
  const alice = await joinedMember(t, server, 'alice', 'Alice')
  const bob = await joinedMember(t, server, 'bob', 'Bob')

  const sent = await push(alice.channel, 'new_message', { content: '  hello bob  ' })
  t.equal(sent.status, 'ok')
  const message = sent.response.message as { id: number, content: string, user_id: string, username: string, inserted_at: string }
  t.match(message, { content: 'hello bob', user_id: 'alice', username: 'Alice' }, 'trimmed, from the token\'s user')
  t.ok(Number.isInteger(message.id) && !Number.isNaN(Date.parse(message.inserted_at)))
  const atBob = await bob.until('the message at bob', () => bob.messages.find(m => m.id === message.id))
  t.same(atBob, message)

  const rejects: Array<[object, string]> = [
    [{ content: '   ' }, 'message is empty'],
    [{ content: 'x'.repeat(501) }, 'message is longer than 500 characters'],
    [{ content: 'bell\u0007' }, 'message contains control characters'],
    [{ content: 42 }, 'invalid message'],
    [{}, 'invalid message']
  ]
  for (const [payload, reason] of rejects) {
    const reply = await push(alice.channel, 'new_message', payload)
    t.same([reply.status, reply.response.reason], ['error', reason], JSON.stringify(payload).slice(0, 40))
  }
  t.equal((await push(alice.channel, 'new_message', { content: '🙂'.repeat(500) })).status, 'ok', '500 characters, counted as characters')

  const second = (await push(bob.channel, 'new_message', { content: 'second' })).response.message as { id: number }
  await push(bob.channel, 'new_message', { content: 'third' })
  const late = new Member(t, server.endpoint, server.roomId, tokenFor('carol'), () => ({ last_seen_id: second.id }))
  t.equal((await late.join()).status, 'ok')
  const history = await late.until('messages after last_seen_id', () => late.pushesOf('messages')[0] as { messages: Array<{ content: string }> } | undefined)
  t.same(history.messages.map(m => m.content), ['third'], 'only what came after the last seen message')

  const fresh = await joinedMember(t, server, 'dave')
  const all = await fresh.until('the whole history', () => fresh.pushesOf('messages')[0] as { messages: Array<{ content: string }> } | undefined)
  t.same(all.messages.map(m => m.content), ['hello bob', '🙂'.repeat(500), 'second', 'third'], 'oldest first')
})

t.test('a joiner sees the room without waiting for the chat history, which follows its avatar', async (t) => {
  const server = await startRoomServer(t)
  const { chat } = server.app
  const read = chat.messagesAfter.bind(chat)
  const gate = deferred()
  chat.messagesAfter = async (...args) => {
    await gate.promise
    return await read(...args)
  }
  const alice = new Member(t, server.endpoint, server.roomId, tokenFor('alice'))
  t.equal((await alice.join()).status, 'ok', 'the reply does not wait for the history')
  await alice.until('the world', () => alice.pushesOf('entities_state')[0])
  await alice.until('the people', () => alice.pushesOf('presence_state')[0])
  await server.streamed(event => event.event === 'user_joined' && event.payload.user_id === 'alice')
  t.same(alice.pushesOf('messages'), [], 'no history yet')
  gate.resolve()
  t.same(await alice.until('the history', () => alice.pushesOf('messages')[0]), { messages: [] })
  t.same(alice.pushes.map(p => p.event).filter(e => e !== 'entities_diff' && e !== 'presence_diff'), ['entities_state', 'presence_state', 'messages'])
})

t.test('grab and release: other clients see the parent change, and the release position', async (t) => {
  const server = await startRoomServer(t)
  const alice = await joinedMember(t, server, 'alice')
  const bob = await joinedMember(t, server, 'bob')
  const world = await bob.until('world', () => bob.pushesOf('entities_state')[0] as Record<string, Record<string, unknown>> | undefined)
  const ballId = Object.keys(world).find(id => world[id]?.holdable === true)!

  t.same(await push(alice.channel, 'event', { event_name: 'user_picked_up', payload: { target_id: ballId, hand: 'left' } }), { status: 'ok', response: {} })
  await bob.until('the ball held by alice', () => bob.entity(ballId)?.parent === 'alice:left')
  await push(alice.channel, 'event', { event_name: 'user_released', payload: { target_id: ballId, hand: 'left', position: [4, 1, -2] } })
  const ball = await bob.until('the ball released', () => bob.entity(ballId)?.parent === null && bob.entity(ballId))
  t.same(ball.position, [4, 1, -2], 'where alice let go')
})

t.test('nobody can grab a person or a wall, or drop what another holds; a leaving user lets go', async (t) => {
  const server = await startRoomServer(t)
  const alice = await joinedMember(t, server, 'alice')
  const mallory = await joinedMember(t, server, 'mallory')
  const world = await mallory.until('world', () => mallory.pushesOf('entities_state')[0] as Record<string, Record<string, unknown>> | undefined)
  const ballId = Object.keys(world).find(id => world[id]?.holdable === true)!
  const fixedId = Object.keys(world).find(id => world[id]?.holdable !== true)!
  const grab = (who: typeof alice, target: string, hand = 'left') => push(who.channel, 'event', { event_name: 'user_picked_up', payload: { target_id: target, hand } })
  const drop = (who: typeof alice, target: string, position: number[]) => push(who.channel, 'event', { event_name: 'user_released', payload: { target_id: target, hand: 'left', position } })

  await grab(mallory, 'alice')
  await grab(mallory, fixedId)
  await grab(alice, ballId)
  // Events are taken in order: once alice's grab shows, mallory's earlier ones were refused.
  await mallory.until('the ball in alice\'s hand', () => mallory.entity(ballId)?.parent === 'alice:left')
  t.equal(mallory.entity('alice')?.parent, undefined, 'alice\'s avatar is in nobody\'s hand')
  t.equal(mallory.entity(fixedId)?.parent, world[fixedId]?.parent, `${fixedId} (not holdable) did not move`)

  await drop(mallory, ballId, [50, 0, 50])
  await grab(alice, ballId, 'right')
  await mallory.until('the ball in alice\'s other hand', () => mallory.entity(ballId)?.parent === 'alice:right')
  t.not((mallory.entity(ballId)?.position as number[])[0], 50, 'mallory could not drop it, nor move it')

  await grab(mallory, ballId)
  await mallory.until('handed over to mallory', () => mallory.entity(ballId)?.parent === 'mallory:left')
  await mallory.channel.leave()
  await alice.until('mallory gone, the ball let go', () => alice.entity('mallory') === undefined && alice.entity(ballId)?.parent === null)
  t.pass('nothing stays in the hand of someone who left')
})

t.test('a user cannot act as another: user_id comes from the token only', async (t) => {
  const server = await startRoomServer(t)
  const mallory = await joinedMember(t, server, 'mallory')
  await joinedMember(t, server, 'alice')
  const world = await mallory.until('world', () => mallory.pushesOf('entities_state')[0] as Record<string, Record<string, unknown>> | undefined)
  const ballId = Object.keys(world).find(id => world[id]?.holdable === true)!

  const spoof = await push(mallory.channel, 'event', { event_name: 'user_picked_up', payload: { target_id: ballId, hand: 'left', user_id: 'alice' } })
  t.equal(spoof.status, 'error', 'a payload naming a user is refused')
  mallory.channel.push('i_moved', { user_id: 'alice', pose: { head: pose(9) } })
  const moved = await server.streamed(e => e.event === 'user_moved')
  t.equal(moved.payload.user_id, 'mallory', 'the move is mallory\'s')
  const said = (await push(mallory.channel, 'new_message', { content: 'hi', user_id: 'alice', username: 'Alice' })).response.message as { user_id: string, username: string }
  t.same([said.user_id, said.username], ['mallory', 'mallory'])
})

t.test('bad input gets a clear answer and never disturbs another client', async (t) => {
  const server = await startRoomServer(t)
  const observer = await joinedMember(t, server, 'olga')
  const alice = await joinedMember(t, server, 'alice')
  const topic = `room:${server.roomId}`

  const invalidEvents: Array<[string, object, string]> = [
    ['i_moved', { pose: { head: [1, 2, 3] } }, 'invalid pose'],
    ['i_moved', { pose: { head: [1, 2, 3, 0, 0, 0, 1e999] } }, 'invalid pose'],
    ['i_moved', { pose: { head: pose(1), tail: pose(1) } }, 'invalid pose'],
    ['event', { event_name: 'user_joined', payload: { user_id: 'x' } }, 'event not allowed'],
    ['event', { event_name: 'room_reset', payload: {} }, 'event not allowed'],
    ['event', { event_name: 'user_picked_up', payload: { target_id: 'ball', hand: 'tail' } }, 'invalid event payload'],
    ['event', { event_name: 'user_picked_up', payload: { target_id: '../../etc', hand: 'left' } }, 'invalid event payload'],
    ['explode', {}, 'unknown event']
  ]
  for (const [event, payload, reason] of invalidEvents) {
    const reply = await push(alice.channel, event, payload)
    t.same([reply.status, reply.response.reason], ['error', reason], `${event} ${JSON.stringify(payload).slice(0, 50)}`)
  }
  t.same(await push(alice.channel, 'ping', { n: 1 }), { status: 'ok', response: { n: 1 } }, 'ping echoes')

  const raw = await RawClient.open(t, server.endpoint, `vsn=2.0.0&_user_token=${tokenFor('eve')}`)
  raw.send('{not json')
  raw.send(JSON.stringify({ topic, event: 'phx_join' }))
  raw.send(JSON.stringify([null, '1', topic, 'i_moved', { pose: { head: pose(1) } }]))
  t.same(await raw.receive(), [null, '1', topic, 'phx_reply', { status: 'error', response: { reason: 'unmatched topic' } }], 'an event before joining')
  raw.send(JSON.stringify(['2', '2', 'lobby:1', 'phx_join', {}]))
  t.same(await raw.receive(), [null, '2', 'lobby:1', 'phx_reply', { status: 'error', response: { reason: 'unmatched topic' } }], 'an unknown topic')
  raw.send(JSON.stringify(['3', '3', topic, 'phx_join', {}]))
  t.match(await raw.receive(), ['3', '3', topic, 'phx_reply', { status: 'ok' }], 'the raw client can still join')
  raw.send('x'.repeat(70 * 1024))
  t.equal((await raw.waitClose()).code, 1009, 'an oversized frame closes that connection only')

  alice.channel.push('i_moved', { pose: { head: pose(42) } })
  await observer.until('alice\'s move after all that', () => (observer.entity('alice')?.head as number[] | undefined)?.[0] === 42)
  t.equal(observer.pushesOf('phx_error').length, 0, 'the observer\'s channel never failed')
})

t.test('moves above the rate limit are coalesced: the last one arrives, and the client is told once', async (t) => {
  const server = await startRoomServer(t, { channels: { limits: { movesPerSecond: 10 } } })
  const alice = await joinedMember(t, server, 'alice')
  for (let i = 1; i <= 40; i++) alice.channel.push('i_moved', { pose: { head: pose(i) } })
  t.same(await push(alice.channel, 'ping', {}), { status: 'ok', response: {} }, 'every move was handled before this reply')
  await alice.until('told about the limit', () => alice.pushesOf('rate_limited').length > 0)
  t.same(alice.pushesOf('rate_limited'), [{ event: 'i_moved', per_second: 10 }], 'told once')
  await alice.until('the last move', () => (alice.entity('alice')?.head as number[] | undefined)?.[0] === 40)
  const moves = server.stream.filter(e => e.event === 'user_moved').length
  t.ok(moves >= 10 && moves < 40, `${moves} of 40 moves went through`)
})

t.test('100 moves sent as fast as possible end at move 100 for everyone', async (t) => {
  const server = await startRoomServer(t)
  const alice = await joinedMember(t, server, 'alice')
  const bob = await joinedMember(t, server, 'bob')
  for (let i = 1; i <= 100; i++) alice.channel.push('i_moved', { pose: { head: pose(i) } })
  await bob.until('alice at move 100', () => (bob.entity('alice')?.head as number[] | undefined)?.[0] === 100)
  const stream = await server.streamed(e => e.event === 'user_moved' && (e.payload.head as number[])[0] === 100)
  t.equal((stream.payload.head as number[])[0], 100, 'the last move reached the room')
  const seen = server.stream.filter(e => e.event === 'user_moved').map(e => (e.payload.head as number[])[0])
  t.same([...seen].sort((a, b) => a! - b!), seen, 'the moves reached the room in order')
})

t.test('reset puts the world back for everyone inside, keeping their avatars', async (t) => {
  const server = await startRoomServer(t)
  const alice = await joinedMember(t, server, 'alice')
  const world = await alice.until('world', () => alice.pushesOf('entities_state')[0] as Record<string, Record<string, unknown>> | undefined)
  const ballId = Object.keys(world).find(id => world[id]?.holdable === true)!
  await push(alice.channel, 'event', { event_name: 'user_picked_up', payload: { target_id: ballId, hand: 'left' } })
  await push(alice.channel, 'event', { event_name: 'user_released', payload: { target_id: ballId, hand: 'left', position: [30, 0, 30] } })
  await alice.until('ball moved', () => (alice.entity(ballId)?.position as number[] | undefined)?.[0] === 30)
  await server.app.runtime.supervisor.dispatch(server.roomId, { event: 'user_joined', payload: { user_id: 'junk', mesh_builder: ['box', {}] } })
  await alice.until('junk created', () => alice.entity('junk'))

  // Only the room's owner may reset it.
  const owner = new Visitor(server.app)
  await server.database.prisma.room.update({ where: { id: server.roomId }, data: { ownerId: await owner.userId() } })
  const reset = await owner.post(`/rooms/${server.roomId}/reset`)
  t.equal(reset.statusCode, 303, 'the reset form redirects')

  await alice.until('ball back in place', () => (alice.entity(ballId)?.position as number[] | undefined)?.[0] !== 30)
  t.same(alice.entity(ballId)?.position, world[ballId]?.position, 'the ball is where the snapshot has it')
  t.notOk(alice.entity('junk'), 'what the snapshot lacks is gone')
  t.ok(alice.entity('alice'), 'alice keeps her avatar')
})

t.test('deleting a room closes its channels; a crashed room makes its clients rejoin, other rooms never notice', async (t) => {
  const server = await startRoomServer(t, {
    runtime: { mutations: { boom: () => { throw new Error('a bug in a room event') } } }
  })
  const alice = await joinedMember(t, server, 'alice')
  await alice.until('alice in', () => alice.entity('alice'))
  const other = await server.app.rooms.createRoom({ name: 'Next door' })
  const neighbour = new Member(t, server.endpoint, other.id, tokenFor('nina'))
  t.equal((await neighbour.join()).status, 'ok')
  await neighbour.until('nina in', () => neighbour.entity('nina'))

  await server.app.runtime.supervisor.dispatch(server.roomId, { event: 'boom', payload: {} })
  await alice.until('phx_error after the crash', () => alice.pushesOf('phx_error').length > 0)
  await alice.until('rejoined the restarted room', () => alice.pushesOf('entities_state').length === 2)
  await alice.until('alice back in the world', () => alice.entity('alice'))
  t.equal(alice.channel.state, 'joined')
  neighbour.channel.push('i_moved', { pose: { head: pose(5) } })
  await neighbour.until('next door still live', () => (neighbour.entity('nina')?.head as number[] | undefined)?.[0] === 5)
  t.same([neighbour.pushesOf('phx_error').length, neighbour.pushesOf('entities_state').length], [0, 1], 'the other room never noticed')

  await server.app.runtime.supervisor.stopRoom(server.roomId)
  await alice.until('phx_close when the room is stopped', () => alice.pushesOf('phx_close').length > 0)
  t.equal(alice.channel.state, 'closed', 'the client does not rejoin')
  t.equal(server.app.roomDirectory.occupancy(server.roomId), 0)
})
