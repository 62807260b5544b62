import { Vector3 } from '@babylonjs/core/Maths/math.vector.js'
import { readVec3 } from '../values.ts'
import type { EntityView } from '../scene/entity-view.ts'
import type { ComponentsView, System } from '../scene/system.ts'

/** Puts the root at `position` (origin when absent). Held entities sit at the hand instead. */
export function applyPosition (view: EntityView, components: ComponentsView): void {
  if (view.attached) {
    view.root.position.copyFrom(Vector3.ZeroReadOnly)
    return
  }
  const v = readVec3(components.position)
  if (v) view.root.position.set(v[0], v[1], v[2])
  else view.root.position.setAll(0)
}

export function positionSystem (): System {
  return { name: 'position', components: ['position'], apply: applyPosition }
}
