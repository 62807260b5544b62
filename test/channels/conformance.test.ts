// The official phoenix client, versions 1.7 and 1.8, unchanged, over WebSocket and over LongPoll
// against the whole app: one WebSocket user and one LongPoll user share a room.
import t from 'tap'
import type { ChatMessageRecord } from '../../src/db/types.ts'
import { clientKits, VERSIONS } from './fixtures/client-kits.ts'
import { Member, pose, push, startRoomServer, tokenFor, within, type PresenceEntry } from './fixtures/room-server.ts'

type PresenceState = Record<string, { metas: PresenceEntry['metas'] }>

for (const version of VERSIONS) {
  const ws = clientKits[`${version}/websocket`]!
  const lp = clientKits[`${version}/longpoll`]!

  t.test(`phoenix ${version}: a WebSocket user and a LongPoll user in one room`, async t => {
    const server = await startRoomServer(t)
    const alice = new Member(t, server.endpoint, server.roomId, tokenFor('alice', 'Alice'), () => ({}), ws)
    t.equal((await alice.join()).status, 'ok', `${ws.name}: join`)
    // Her avatar joins the world after the reply, before her chat history arrives.
    await alice.until('alice\'s chat history', () => alice.pushesOf('messages').length > 0)
    // Bob resumes chat where he left it: the join params are read at every (re)join.
    let bobSeen: number | undefined
    const bob = new Member(t, server.endpoint, server.roomId, tokenFor('bob', 'Bob'), () => bobSeen === undefined ? {} : { last_seen_id: bobSeen }, lp)
    t.same(await bob.join(), { status: 'ok', response: { user_id: 'bob', username: 'Bob' } }, `${lp.name}: join`)
    t.equal(bob.socket.isConnected(), true)
    t.equal((bob.socket as unknown as { transport: unknown }).transport, lp.transport, 'bob really polls')

    await t.test('entities_state first, then presence_state that includes the joiner', async t => {
      const world = await bob.until('entities_state at bob', () => bob.pushesOf('entities_state')[0] as Record<string, Record<string, unknown>> | undefined)
      t.ok(Object.values(world).some(c => c.spawn_point === true), 'the room\'s world')
      t.ok(world.alice?.avatar, 'alice\'s avatar in bob\'s world')
      t.equal(bob.pushes[0]?.event, 'entities_state')
      const aliceState = await alice.until('presence_state at alice', () => alice.pushesOf('presence_state')[0] as PresenceState | undefined)
      t.same(Object.keys(aliceState), ['alice'], 'alice, first in the room, is in her own presence_state')
      const bobState = await bob.until('presence_state at bob', () => bob.pushesOf('presence_state')[0] as PresenceState | undefined)
      t.same(Object.keys(bobState).sort(), ['alice', 'bob'], 'bob\'s presence_state has alice and himself')
      t.equal(bobState.bob?.metas[0]?.username, 'Bob')
      await alice.until('bob joins at alice', () => alice.presenceDiffs.some(d => 'bob' in d.joins))
      await bob.until('bob\'s own join diff', () => bob.presenceDiffs.some(d => 'bob' in d.joins))
      const people = await bob.until('two people at bob', () => bob.people.length === 2 && bob.people)
      t.same(people.map(p => [p.id, p.metas.length]).sort(), [['alice', 1], ['bob', 1]], 'Presence keeps one meta each')
    })

    await t.test('moves both ways', async t => {
      alice.channel.push('i_moved', { pose: { head: pose(3) } })
      await bob.until('alice moved, at bob', () => (bob.entity('alice')?.head as number[] | undefined)?.[0] === 3)
      bob.channel.push('i_moved', { pose: { head: pose(-2), left: pose(-2.2) } })
      const seen = await alice.until('bob moved, at alice', () => (alice.entity('bob')?.head as number[] | undefined)?.[0] === -2 && alice.entity('bob'))
      t.same(seen.left, pose(-2.2))
    })

    await t.test('grab and release from the LongPoll side', async t => {
      const world = bob.pushesOf('entities_state')[0] as Record<string, Record<string, unknown>>
      const ballId = Object.keys(world).find(id => world[id]?.holdable === true)!
      t.same(await push(bob.channel, 'event', { event_name: 'user_picked_up', payload: { target_id: ballId, hand: 'left' } }), { status: 'ok', response: {} })
      await alice.until('the ball in bob\'s hand', () => alice.entity(ballId)?.parent === 'bob:left')
      await push(bob.channel, 'event', { event_name: 'user_released', payload: { target_id: ballId, hand: 'left', position: [1, 0.5, 1] } })
      const ball = await alice.until('the ball let go', () => alice.entity(ballId)?.parent === null && alice.entity(ballId))
      t.same(ball.position, [1, 0.5, 1])
    })

    await t.test('chat both ways; leave; rejoin with last_seen_id', async t => {
      const first = (await push(alice.channel, 'new_message', { content: 'hello bob' })).response.message as ChatMessageRecord
      await bob.until('alice\'s message at bob', () => bob.messages.some(m => m.id === first.id))
      const answer = (await push(bob.channel, 'new_message', { content: 'hi alice' })).response.message as ChatMessageRecord
      await alice.until('bob\'s message at alice', () => alice.messages.some(m => m.id === answer.id))
      bobSeen = answer.id

      await bob.leave()
      await alice.until('bob leaves at alice', () => alice.presenceDiffs.some(d => 'bob' in d.leaves) && !alice.people.some(p => p.id === 'bob'))
      const missed = (await push(alice.channel, 'new_message', { content: 'while you were out' })).response.message as ChatMessageRecord

      // A left channel cannot join again in phoenix.js: a new one on the same socket.
      const again = bob.socket.channel(`room:${server.roomId}`, () => ({ last_seen_id: bobSeen }))
      const history = new Promise<{ messages: ChatMessageRecord[] }>(resolve => again.on('messages', resolve))
      const states: PresenceState[] = []
      again.on('presence_state', (state: PresenceState) => { states.push(state) })
      const joined = await within(new Promise(resolve => again.join().receive('ok', resolve)), 'bob\'s rejoin')
      t.same(joined, { user_id: 'bob', username: 'Bob' })
      t.same((await within(history, 'the messages push')).messages.map(m => m.id), [missed.id], 'only what bob missed')
      t.ok(states[0]?.bob, 'the rejoined bob is in his presence_state')
      await alice.until('bob back at alice', () => alice.people.some(p => p.id === 'bob'))
      again.push('i_moved', { pose: { head: pose(7) } })
      await alice.until('bob moves again', () => (alice.entity('bob')?.head as number[] | undefined)?.[0] === 7)
    })
  })
}
