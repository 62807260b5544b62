import t from 'tap'
import { EntityStore, jsonEqual } from '../../src/client/entity-store.ts'

const box = { mesh_builder: ['box', { size: 1 }], position: [0, 0.5, 0], holdable: true }
const ground = { mesh_builder: ['ground', { width: 20, height: 20, subdivisions: 2 }], material: 'grid', teleportable: true }

t.test('entities_state replaces everything and reports creates', async t => {
  const store = new EntityStore()
  const changes = store.replace({ box, ground })
  t.same(changes.map(c => [c.id, c.kind]).sort(), [['box', 'create'], ['ground', 'create']])
  t.same(changes.find(c => c.id === 'box')!.set.sort(), ['holdable', 'mesh_builder', 'position'])
  t.same(store.snapshot(), { box, ground })
})

t.test('a second entities_state deletes, updates and creates by comparison', async t => {
  const store = new EntityStore()
  store.replace({ box, ground })
  const changes = store.replace({
    box: { ...box, position: [1, 0.5, 0], holdable: undefined },
    sphere: { mesh_builder: ['sphere', { diameter: 0.3 }] }
  })
  const byId = Object.fromEntries(changes.map(c => [c.id, c]))
  t.equal(byId.ground.kind, 'delete')
  t.same(byId.ground.removed.sort(), ['material', 'mesh_builder', 'teleportable'])
  t.equal(byId.box.kind, 'update')
  t.same(byId.box.set, ['position'], 'only the changed component is reported')
  t.equal(byId.sphere.kind, 'create')
  t.same(store.ids().sort(), ['box', 'sphere'])
})

t.test('replacing with identical state reports nothing', async t => {
  const store = new EntityStore()
  store.replace({ box })
  t.same(store.replace(JSON.parse(JSON.stringify({ box }))), [])
})

t.test('a component missing from a new entities_state is reported removed', async t => {
  const store = new EntityStore()
  store.replace({ box })
  const [change] = store.replace({ box: { mesh_builder: box.mesh_builder, position: box.position } })
  t.same(change, { id: 'box', kind: 'update', set: [], removed: ['holdable'] })
  t.notOk('holdable' in store.get('box')!)
})

t.test('entities_diff creates, merges updates and deletes', async t => {
  const store = new EntityStore()
  store.replace({ box, ground })
  const changes = store.applyDiff({
    creates: { ball: { mesh_builder: ['sphere', {}], position: [2, 1, 0] } },
    updates: { box: { position: [3, 0.5, 3], parent: 'u1:right' } },
    deletes: { ground: true }
  })
  t.same(changes, [
    { id: 'ball', kind: 'create', set: ['mesh_builder', 'position'], removed: [] },
    { id: 'box', kind: 'update', set: ['position', 'parent'], removed: [] },
    { id: 'ground', kind: 'delete', set: [], removed: ['mesh_builder', 'material', 'teleportable'] }
  ])
  t.same(store.get('box'), { ...box, position: [3, 0.5, 3], parent: 'u1:right' }, 'updates are merged, other components kept')
  t.notOk(store.has('ground'))
})

t.test('null is a value (parent released), not a removal', async t => {
  const store = new EntityStore()
  store.replace({ box: { ...box, parent: 'u1:left' } })
  const [change] = store.applyDiff({ updates: { box: { parent: null } } })
  t.same(change.set, ['parent'])
  t.equal(store.get('box')!.parent, null)
})

t.test('an update that changes nothing reports nothing', async t => {
  const store = new EntityStore()
  store.replace({ box })
  t.same(store.applyDiff({ updates: { box: { position: [0, 0.5, 0] } } }), [])
})

t.test('an update for an unknown entity creates it; a delete of an unknown one is ignored', async t => {
  const store = new EntityStore()
  const changes = store.applyDiff({ updates: { ghost: { position: [1, 2, 3] } }, deletes: { nobody: 1 } })
  t.same(changes, [{ id: 'ghost', kind: 'create', set: ['position'], removed: [] }])
})

t.test('create of an existing id replaces its components', async t => {
  const store = new EntityStore()
  store.replace({ box })
  const [change] = store.applyDiff({ creates: { box: { mesh_builder: ['sphere', {}] } } })
  t.equal(change.kind, 'update')
  t.same(change.set, ['mesh_builder'])
  t.same(change.removed.sort(), ['holdable', 'position'])
})

t.test('created and deleted in one diff: nothing to report', async t => {
  const store = new EntityStore()
  t.same(store.applyDiff({ creates: { tmp: { position: [0, 0, 0] } }, deletes: { tmp: true } }), [])
  t.equal(store.size, 0)
})

t.test('malformed payloads are ignored', async t => {
  const store = new EntityStore()
  store.replace({ box })
  t.same(store.applyDiff(null), [])
  t.same(store.applyDiff('nope'), [])
  t.same(store.applyDiff({ creates: [1, 2], updates: { box: 'x' }, deletes: 5 }), [])
  t.same(store.applyDiff({ creates: { box: 7, other: null } }), [])
  t.same(store.replace({ ok: { a: 1 }, bad: [1], worse: null }).map(c => c.id).sort(), ['box', 'ok'])
  t.same(store.ids(), ['ok'])
})

t.test('hostile keys stay plain data', async t => {
  const store = new EntityStore()
  store.applyDiff(JSON.parse('{"creates":{"__proto__":{"__proto__":{"polluted":true},"position":[1,1,1]}}}'))
  t.ok(store.has('__proto__'))
  t.same(store.get('__proto__')!.position, [1, 1, 1])
  t.equal(({} as Record<string, unknown>).polluted, undefined)
  const snap = store.snapshot()
  t.ok(Object.prototype.hasOwnProperty.call(snap, '__proto__'))
})

t.test('snapshot is a deep copy', async t => {
  const store = new EntityStore()
  store.replace({ box })
  const snap = store.snapshot()
  ;(snap.box.position as number[])[0] = 99
  t.same(store.get('box')!.position, [0, 0.5, 0])
})

t.test('local update (grab) then the server confirming it reports once', async t => {
  const store = new EntityStore()
  store.replace({ box })
  t.equal(store.update('box', { parent: 'me:right' }).length, 1)
  t.same(store.applyDiff({ updates: { box: { parent: 'me:right' } } }), [])
})

t.test('jsonEqual', async t => {
  t.ok(jsonEqual([1, [2, { a: 3 }]], [1, [2, { a: 3 }]]))
  t.notOk(jsonEqual({ a: 1 }, { a: 1, b: 2 }))
  t.notOk(jsonEqual([1], { 0: 1 }))
  t.notOk(jsonEqual(null, {}))
  t.ok(jsonEqual('#ff0000', '#ff0000'))
  t.notOk(jsonEqual([1, 2], [1, 2, 3]))
  t.notOk(jsonEqual([1, 2], [1, 3]))
  t.notOk(jsonEqual({ a: 1 }, { b: 1 }))
  t.notOk(jsonEqual({ a: { b: 1 } }, { a: { b: 2 } }))
})
