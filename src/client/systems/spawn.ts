import { CreateCylinder } from '@babylonjs/core/Meshes/Builders/cylinderBuilder.js'
import type { Mesh } from '@babylonjs/core/Meshes/mesh.js'
import { StandardMaterial } from '@babylonjs/core/Materials/standardMaterial.js'
import { Color3 } from '@babylonjs/core/Maths/math.color.js'
import type { Vector3 } from '@babylonjs/core/Maths/math.vector.js'
import type { EntityView } from '../scene/entity-view.ts'
import type { System, SystemContext } from '../scene/system.ts'

export interface SpawnSystem extends System {
  /** World position of a spawn point (the first one created), or null. */
  spawnPosition: () => Vector3 | null
}

/** `spawn_point`: remembers where newcomers start and marks it with a faint disc on the floor. */
export function spawnSystem (ctx: SystemContext): SpawnSystem {
  const points = new Map<EntityView, Mesh>()
  let markerMaterial: StandardMaterial | null = null
  const material = (): StandardMaterial => {
    if (!markerMaterial) {
      markerMaterial = new StandardMaterial('spawn-marker', ctx.scene)
      markerMaterial.diffuseColor = new Color3(0.3, 0.6, 1)
      markerMaterial.emissiveColor = new Color3(0.1, 0.25, 0.5)
      markerMaterial.alpha = 0.35
    }
    return markerMaterial
  }
  const drop = (view: EntityView): void => {
    points.get(view)?.dispose()
    points.delete(view)
  }
  return {
    name: 'spawn_point',
    components: ['spawn_point'],
    apply (view, components) {
      if (components.spawn_point !== true) {
        drop(view)
        return
      }
      if (points.has(view)) return
      const marker = CreateCylinder(`spawn:${view.id}`, { diameter: 0.8, height: 0.01, tessellation: 32 }, ctx.scene)
      marker.parent = view.root
      marker.position.y = 0.006
      marker.isPickable = false
      marker.material = material()
      points.set(view, marker)
    },
    remove: drop,
    spawnPosition () {
      for (const view of points.keys()) {
        view.root.computeWorldMatrix(true)
        return view.root.getAbsolutePosition().clone()
      }
      return null
    }
  }
}
