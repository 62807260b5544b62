import t from 'tap'
import { Registry, type Stoppable } from '../../src/runtime/registry.ts'

class Instance implements Stoppable {
  #listeners: Array<() => void> = []
  stopped = false
  onStop (listener: () => void): void {
    if (this.stopped) listener()
    else this.#listeners.push(listener)
  }

  stop (): void {
    this.stopped = true
    for (const listener of this.#listeners.splice(0)) listener()
  }
}

t.test('one instance per name; a taken name answers already_started with the running one', async (t) => {
  const registry = new Registry<Instance>()
  const first = new Instance()
  const second = new Instance()
  t.same(registry.register('entities_diff:a', first), { status: 'registered', instance: first })
  const again = registry.register('entities_diff:a', second)
  t.equal(again.status, 'already_started')
  t.equal(again.instance, first)
  t.equal(registry.lookup('entities_diff:a'), first)
  t.equal(registry.lookup('entities_diff:b'), undefined)
  t.same(registry.names(), ['entities_diff:a'])
})

t.test('a stopped instance is removed at once, and its name can be taken again', async (t) => {
  const registry = new Registry<Instance>()
  const first = new Instance()
  registry.register('room_server:a', first)
  registry.register('room_server:b', new Instance())
  first.stop()
  t.equal(registry.lookup('room_server:a'), undefined)
  t.equal(registry.size, 1)
  const next = new Instance()
  t.equal(registry.register('room_server:a', next).status, 'registered')
  first.stop()
  t.equal(registry.lookup('room_server:a'), next, 'a late stop of the old instance does not remove the new one')
})

t.test('registering an instance that already stopped leaves nothing behind', async (t) => {
  const registry = new Registry<Instance>()
  const gone = new Instance()
  gone.stop()
  registry.register('x', gone)
  t.equal(registry.lookup('x'), undefined)
})
