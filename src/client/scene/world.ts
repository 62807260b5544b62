import type { Scene } from '@babylonjs/core/scene.js'
import type { Node } from '@babylonjs/core/node.js'
import type { EntityChange, EntityStore } from '../entity-store.ts'
import { createView, type EntityView } from './entity-view.ts'
import type { System } from './system.ts'

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({})

/**
 * Entity views plus the systems that draw them. Feed it the changes the
 * store reports; it calls, in order, every system watching a changed component.
 */
export class World {
  readonly scene: Scene
  readonly store: EntityStore
  readonly #systems: System[]
  readonly #views = new Map<string, EntityView>()

  constructor (scene: Scene, store: EntityStore, systems: System[]) {
    this.scene = scene
    this.store = store
    this.#systems = systems
  }

  view (id: string): EntityView | undefined {
    return this.#views.get(id)
  }

  views (): IterableIterator<EntityView> {
    return this.#views.values()
  }

  applyChanges (changes: EntityChange[]): void {
    for (const change of changes) {
      try {
        if (change.kind === 'delete') this.#delete(change.id)
        else this.#apply(change)
      } catch (err) {
        console.error(`entity ${change.id}: could not apply change`, err)
      }
    }
  }

  /** Runs every system's per-frame update. */
  update (): void {
    for (const system of this.#systems) system.update?.()
  }

  #apply (change: EntityChange): void {
    let view = this.#views.get(change.id)
    const created = view === undefined
    if (!view) {
      view = createView(this.scene, change.id)
      this.#views.set(change.id, view)
    }
    const components = this.store.get(change.id) ?? EMPTY
    const touched = new Set([...change.set, ...change.removed])
    for (const system of this.#systems) {
      if (created ? system.components.some(c => c in components) : system.components.some(c => touched.has(c))) {
        system.apply(view, components)
      }
    }
  }

  #delete (id: string): void {
    const view = this.#views.get(id)
    if (!view) return
    for (const system of this.#systems) system.remove?.(view)
    // Other entities hanging under this one (held in its avatar's hand) must survive it.
    for (const other of this.#views.values()) {
      if (other !== view && isDescendant(other.root, view.root)) other.root.setParent(null)
    }
    this.#views.delete(id)
    view.root.dispose(false, true)
    view.material?.dispose(true, true)
  }
}

function isDescendant (node: Node, ancestor: Node): boolean {
  for (let p = node.parent; p; p = p.parent) if (p === ancestor) return true
  return false
}
