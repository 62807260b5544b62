import t from 'tap'
import type { ChannelFactory } from '../../src/phoenix/channel.ts'
import { ChannelRouter } from '../../src/phoenix/router.ts'

// Each call is a distinct function, so the test can tell which route matched.
const factory = (): ChannelFactory => () => { throw new Error('never called') }

t.test('prefix patterns, exact topics, first match wins', async t => {
  const rooms = factory()
  const lobby = factory()
  const anyRoomAgain = factory()
  const router = new ChannelRouter([
    { pattern: 'room:*', factory: rooms },
    { pattern: 'lobby', factory: lobby },
    { pattern: 'room:*', factory: anyRoomAgain }
  ])
  t.equal(router.match('room:abc'), rooms)
  t.equal(router.match('room:'), rooms, 'an empty subtopic still matches the prefix')
  t.equal(router.match('lobby'), lobby)
  t.equal(router.match('lobby:1'), undefined, 'exact patterns do not match as prefix')
  t.equal(router.match('rooms:abc'), undefined)
  t.equal(router.match('phoenix'), undefined)
})

t.test('patterns Phoenix would refuse stop construction', async t => {
  for (const pattern of ['', '*', 'room:*:x', '*room', 5 as unknown as string]) {
    t.throws(() => new ChannelRouter([{ pattern, factory: factory() }]), `pattern ${JSON.stringify(pattern)}`)
  }
  t.throws(() => new ChannelRouter([{ pattern: 'room:*', factory: 'nope' as unknown as ChannelFactory }]), /factory/)
})
