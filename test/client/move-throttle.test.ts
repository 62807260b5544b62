import t from 'tap'
import { MoveThrottle } from '../../src/client/move-throttle.ts'
import { movePayload, type Pose } from '../../src/client/pose.ts'

const at = (x: number, yaw = 0): Pose => ({
  position: { x, y: 1.6, z: 0 },
  rotation: { x: 0, y: Math.sin(yaw / 2), z: 0, w: Math.cos(yaw / 2) }
})

t.test('first pose goes out at once', async t => {
  const th = new MoveThrottle()
  t.ok(th.offer(movePayload(at(0)), 1000))
})

t.test('unchanged pose is never resent', async t => {
  const th = new MoveThrottle()
  th.offer(movePayload(at(0)), 0)
  for (let now = 16; now < 2000; now += 16) t.equal(th.offer(movePayload(at(0)), now), null)
})

t.test('at most 20 per second while moving every frame', async t => {
  const th = new MoveThrottle()
  let sent = 0
  for (let frame = 0; frame < 120; frame++) { // 2 s at 60 fps
    if (th.offer(movePayload(at(frame * 0.01)), frame * (1000 / 60))) sent++
  }
  t.ok(sent <= 40, `sent ${sent}`)
  t.ok(sent >= 30, `sent ${sent}`)
})

t.test('a pose held back by the interval goes out on a later frame', async t => {
  const th = new MoveThrottle(50)
  t.ok(th.offer(movePayload(at(0)), 0))
  t.equal(th.offer(movePayload(at(1)), 10), null, 'too soon')
  const later = th.offer(movePayload(at(1)), 50)
  t.ok(later)
  t.equal(later!.pose.head[0], 1)
})

t.test('sub-millimetre jitter does not count as movement', async t => {
  const th = new MoveThrottle()
  th.offer(movePayload(at(1)), 0)
  t.equal(th.offer(movePayload(at(1.0002)), 100), null)
  t.ok(th.offer(movePayload(at(1.002)), 200))
})

t.test('rotation alone counts as movement', async t => {
  const th = new MoveThrottle()
  th.offer(movePayload(at(0, 0)), 0)
  t.ok(th.offer(movePayload(at(0, 0.1)), 100))
})

t.test('hand changes count; reset makes the same pose go out again', async t => {
  const th = new MoveThrottle()
  const left = at(-0.2)
  th.offer(movePayload(at(0), left), 0)
  t.ok(th.offer(movePayload(at(0), at(-0.3)), 100))
  t.ok(th.offer(movePayload(at(0)), 200), 'a hand disappearing is a change')
  t.equal(th.offer(movePayload(at(0)), 300), null)
  th.reset()
  t.ok(th.offer(movePayload(at(0)), 301))
})
