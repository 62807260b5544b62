import type { Vector3 } from '@babylonjs/core/Maths/math.vector.js'
import type { EntityView } from '../scene/entity-view.ts'
import type { System } from '../scene/system.ts'

export interface HoldableSystem extends System {
  /** The nearest holdable entity within `maxDistance` of `point` that `accept` allows. */
  nearest: (point: Vector3, maxDistance: number, accept: (view: EntityView) => boolean) => EntityView | null
}

/** `holdable`: entities one can pick up. */
export function holdableSystem (): HoldableSystem {
  const holdables = new Set<EntityView>()
  return {
    name: 'holdable',
    components: ['holdable'],
    apply (view, components) {
      if (components.holdable === true) holdables.add(view)
      else holdables.delete(view)
    },
    remove (view) { holdables.delete(view) },
    nearest (point, maxDistance, accept) {
      let best: EntityView | null = null
      let bestDistance = maxDistance
      for (const view of holdables) {
        if (!accept(view)) continue
        view.root.computeWorldMatrix(true)
        const d = view.root.getAbsolutePosition().subtract(point).length()
        if (d <= bestDistance) {
          best = view
          bestDistance = d
        }
      }
      return best
    }
  }
}
