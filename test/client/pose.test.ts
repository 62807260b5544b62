import t from 'tap'
import { movePayload, packPose, samePose, startPlacement, unpackPose, yawOf } from '../../src/client/pose.ts'
import { EYE_HEIGHT } from '../../src/shared/world.ts'

t.test('packPose: [x, y, z, qx, qy, qz, qw], rounded', async t => {
  const packed = packPose({ position: { x: 1.23456, y: 1.6, z: -0.0001 }, rotation: { x: 0, y: 0.7071067, z: 0, w: 0.7071068 } })
  t.same(packed, [1.235, 1.6, 0, 0, 0.7071, 0, 0.7071])
  t.ok(packed.every(n => !Object.is(n, -0)), 'no negative zero')
})

t.test('packPose normalises and canonicalises the quaternion', async t => {
  t.same(packPose({ position: { x: 0, y: 0, z: 0 }, rotation: { x: 0, y: 0, z: 0, w: -2 } }).slice(3), [0, 0, 0, 1])
  t.same(packPose({ position: { x: 0, y: 0, z: 0 }, rotation: { x: 0, y: 0, z: 0, w: 0 } }).slice(3), [0, 0, 0, 1], 'degenerate becomes identity')
  t.same(packPose({ position: { x: 0, y: 0, z: 0 }, rotation: { x: 0, y: -0.6, z: 0, w: -0.8 } }).slice(3), [0, 0.6, 0, 0.8])
})

t.test('unpackPose round trip and validation', async t => {
  t.same(unpackPose([1, 2, 3, 0, 0, 0, 1]), { position: { x: 1, y: 2, z: 3 }, rotation: { x: 0, y: 0, z: 0, w: 1 } })
  t.equal(unpackPose([1, 2, 3]), null)
  t.equal(unpackPose([1, 2, 3, 0, 0, 0, 'x']), null)
  t.equal(unpackPose([1, 2, 3, 0, 0, 0, Infinity]), null)
  t.equal(unpackPose(null), null)
})

t.test('movePayload includes hands only when given', async t => {
  const head = { position: { x: 0, y: 1.6, z: 0 }, rotation: { x: 0, y: 0, z: 0, w: 1 } }
  t.same(movePayload(head), { pose: { head: [0, 1.6, 0, 0, 0, 0, 1] } })
  const p = movePayload(head, null, head)
  t.same(Object.keys(p.pose).sort(), ['head', 'right'])
  t.ok(samePose(movePayload(head), movePayload(head)))
  t.notOk(samePose(movePayload(head), p))
})

t.test('yawOf', async t => {
  t.equal(yawOf({ x: 0, y: 0, z: 0, w: 1 }), 0)
  const half = Math.PI / 4
  t.ok(Math.abs(yawOf({ x: 0, y: Math.sin(half), z: 0, w: Math.cos(half) }) - Math.PI / 2) < 1e-9)
  t.equal(yawOf({ x: -Math.sin(half), y: 0, z: 0, w: Math.cos(half) }), 0, 'looking straight up has no heading')
})

t.test('startPlacement: resume, else spawn, else origin', async t => {
  const resumed = startPlacement({ position: { x: 3, y: 1.7, z: -2 }, rotation: { x: 0, y: 1, z: 0, w: 0 } }, { x: 9, y: 0, z: 9 })
  t.same(resumed.position, { x: 3, y: 1.7, z: -2 })
  t.ok(Math.abs(Math.abs(resumed.yaw) - Math.PI) < 1e-9)
  t.same(startPlacement(null, { x: 5, y: 0.5, z: 1 }), { position: { x: 5, y: 0.5 + EYE_HEIGHT, z: 1 }, yaw: 0 })
  t.same(startPlacement(null, null), { position: { x: 0, y: EYE_HEIGHT, z: 0 }, yaw: 0 })
})
