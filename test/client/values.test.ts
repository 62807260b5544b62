import t from 'tap'
import { colorForId, hslToRgb, parentValue, readColor, readMeshBuilder, readParent, readQuat, readVec3 } from '../../src/client/values.ts'

t.test('readColor', async t => {
  t.same(readColor([1, 0.5, 0]), [1, 0.5, 0])
  t.same(readColor([2, -1, 0.5]), [1, 0, 0.5], 'clamped')
  t.same(readColor('#ff8000'), [1, 128 / 255, 0])
  t.same(readColor('#f00'), [1, 0, 0])
  t.equal(readColor('red'), null)
  t.equal(readColor([1, 'x', 0]), null)
  t.equal(readColor(undefined), null)
})

t.test('readVec3 / readQuat', async t => {
  t.same(readVec3([1, 2, 3]), [1, 2, 3])
  t.equal(readVec3([1, 2]), null)
  t.equal(readVec3([1, 2, NaN]), null)
  t.same(readQuat([0, 0, 0, 2]), [0, 0, 0, 1])
  t.equal(readQuat([0, 0, 0, 0]), null)
  t.equal(readQuat([0, 0, 1]), null)
})

t.test('readMeshBuilder', async t => {
  t.same(readMeshBuilder(['box', { size: 2 }]), { kind: 'box', width: 2, height: 2, depth: 2 })
  t.same(readMeshBuilder(['box', { width: 1, height: 0.5, depth: 3 }]), { kind: 'box', width: 1, height: 0.5, depth: 3 })
  t.same(readMeshBuilder(['box']), { kind: 'box', width: 1, height: 1, depth: 1 })
  t.same(readMeshBuilder(['ground', { width: 20, height: 10, subdivisions: 4 }]), { kind: 'ground', width: 20, height: 10, subdivisions: 4 })
  t.same(readMeshBuilder(['ground', { width: 4, height: 4 }]), { kind: 'ground', width: 4, height: 4, subdivisions: 1 })
  t.same(readMeshBuilder(['ground', { width: 4, height: 4, subdivisions: 1000 }]), { kind: 'ground', width: 4, height: 4, subdivisions: 64 })
  t.same(readMeshBuilder(['sphere', { diameter: 0.5 }]), { kind: 'sphere', diameter: 0.5 })
  t.same(readMeshBuilder(['sphere', { diameter: -1 }]), { kind: 'sphere', diameter: 1 })
  t.same(readMeshBuilder(['box', { size: 1e9 }]), { kind: 'box', width: 1000, height: 1000, depth: 1000 })
  t.equal(readMeshBuilder(['torus', {}]), null)
  t.equal(readMeshBuilder('box'), null)
})

t.test('readParent', async t => {
  t.same(readParent('u1:right'), { userId: 'u1', hand: 'right' })
  t.same(readParent('a:b:left'), { userId: 'a:b', hand: 'left' })
  t.equal(readParent('u1:foot'), null)
  t.equal(readParent(':left'), null)
  t.equal(readParent(null), null)
  t.equal(parentValue('u1', 'left'), 'u1:left')
  t.same(readParent(parentValue('a:b', 'right')), { userId: 'a:b', hand: 'right' })
})

t.test('hslToRgb', async t => {
  const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]) < 1e-9)
  t.ok(close(hslToRgb(0, 1, 0.5), [1, 0, 0]))
  t.ok(close(hslToRgb(1 / 3, 1, 0.25), [0, 0.5, 0]))
  t.ok(close(hslToRgb(2 / 3, 0, 0.75), [0.75, 0.75, 0.75]))
})

t.test('colorForId is stable and in range', async t => {
  t.same(colorForId('abc'), colorForId('abc'))
  t.notSame(colorForId('abc'), colorForId('abd'))
  t.ok(colorForId('x').every(c => c >= 0 && c <= 1))
})
