import { readVec3 } from '../values.ts'
import type { System } from '../scene/system.ts'

/** `scaling` [x, y, z] on the root. */
export function scalingSystem (): System {
  return {
    name: 'scaling',
    components: ['scaling'],
    apply (view, components) {
      const v = readVec3(components.scaling)
      if (v) view.root.scaling.set(v[0], v[1], v[2])
      else view.root.scaling.setAll(1)
    }
  }
}
