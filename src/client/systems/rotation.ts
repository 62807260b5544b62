import { Quaternion } from '@babylonjs/core/Maths/math.vector.js'
import { readQuat } from '../values.ts'
import type { System } from '../scene/system.ts'

/** `rotation` quaternion [x, y, z, w] on the root (relative to the hand while held). */
export function rotationSystem (): System {
  return {
    name: 'rotation',
    components: ['rotation'],
    apply (view, components) {
      const q = readQuat(components.rotation)
      view.root.rotationQuaternion = q ? new Quaternion(q[0], q[1], q[2], q[3]) : Quaternion.Identity()
    }
  }
}
