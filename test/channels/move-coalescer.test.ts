import t from 'tap'
import { MoveCoalescer } from '../../src/channels/move-coalescer.ts'
import { ManualClock } from '../runtime/fixtures/clock.ts'

function coalescer (perSecond: number, burst?: number, send?: (move: number) => Promise<void>): { moves: MoveCoalescer<number>, clock: ManualClock, sent: number[], errors: unknown[] } {
  const clock = new ManualClock()
  const sent: number[] = []
  const errors: unknown[] = []
  const moves = new MoveCoalescer<number>({
    perSecond,
    burst,
    clock,
    send: send ?? (async (move) => { sent.push(move) }),
    onError: (err) => errors.push(err)
  })
  return { moves, clock, sent, errors }
}

t.test('within the limit every move is sent at once', async (t) => {
  const { moves, clock, sent } = coalescer(10, 2)
  t.equal(await moves.offer(1), 'sent')
  t.equal(await moves.offer(2), 'sent')
  clock.advance(100)
  t.equal(await moves.offer(3), 'sent')
  t.same(sent, [1, 2, 3], 'in order, none held')
  t.equal(clock.pending, 0, 'no timer')
})

t.test('above the limit the newest move replaces the waiting one and is sent when a token is back', async (t) => {
  const { moves, clock, sent } = coalescer(10, 2)
  await moves.offer(1)
  await moves.offer(2)
  t.equal(await moves.offer(3), 'coalesced')
  t.equal(await moves.offer(4), 'coalesced')
  t.equal(await moves.offer(5), 'coalesced')
  t.same(sent, [1, 2], 'the burst went out, the rest waits')
  clock.advance(99)
  t.same(sent, [1, 2], 'not before the limit allows')
  clock.advance(1)
  t.same(sent, [1, 2, 5], 'the newest of the waiting moves, 100 ms later at 10/s')
  t.equal(clock.pending, 0, 'nothing waits, no timer')
})

t.test('a move offered while one waits never overtakes it, even when its timer is late', async (t) => {
  // A busy event loop: time passes, the timer has not run yet.
  let now = 0
  const timers: Array<() => void> = []
  const sent: number[] = []
  const moves = new MoveCoalescer<number>({
    perSecond: 10,
    burst: 1,
    clock: { now: () => now, setTimeout: (callback) => timers.push(callback), clearTimeout: () => {} },
    send: async (move) => { sent.push(move) },
    onError: () => {}
  })
  await moves.offer(1)
  await moves.offer(2)
  now = 150
  t.equal(await moves.offer(3), 'coalesced', 'a token is back, but move 2 waits: 3 replaces it instead of jumping ahead')
  t.equal(timers.length, 1, 'one timer for the waiting move')
  timers.shift()!()
  t.same(sent, [1, 3])
})

t.test('a long burst at 120 Hz is sent at the limit and ends with its last move', async (t) => {
  const { moves, clock, sent } = coalescer(60)
  for (let i = 1; i <= 240; i++) {
    await moves.offer(i)
    clock.advance(1000 / 120)
  }
  clock.advance(1000)
  t.equal(sent.at(-1), 240, 'the last pose arrives')
  t.ok(sent.length <= 60 + 60 * 3 + 1, `${sent.length} sends over 3 s: within a burst of 60 plus 60/s`)
  t.same([...sent].sort((a, b) => a - b), sent, 'in order')
})

t.test('close sends the waiting move at once and stops', async (t) => {
  const { moves, clock, sent } = coalescer(10, 1)
  await moves.offer(1)
  await moves.offer(2)
  await moves.close()
  t.same(sent, [1, 2], 'the waiting move went out')
  t.equal(clock.pending, 0, 'no timer left')
  t.equal(await moves.offer(3), 'coalesced', 'later moves are ignored')
  clock.advance(1000)
  t.same(sent, [1, 2])
})

t.test('a failing send of a held move is reported, and later moves still go', async (t) => {
  const sent: number[] = []
  const { moves, clock, errors } = coalescer(10, 1, async (move) => {
    if (move === 2) throw new Error('pubsub down')
    sent.push(move)
  })
  await moves.offer(1)
  await moves.offer(2)
  clock.advance(100)
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(errors.length, 1, 'the error reached onError')
  clock.advance(100)
  t.equal(await moves.offer(3), 'sent')
  t.same(sent, [1, 3])
})
