import type { AbstractMesh } from '@babylonjs/core/Meshes/abstractMesh.js'
import type { EntityView } from '../scene/entity-view.ts'
import type { System } from '../scene/system.ts'

export interface TeleportSystem extends System {
  /** Meshes one may teleport onto. */
  floorMeshes: () => AbstractMesh[]
  isFloor: (mesh: AbstractMesh) => boolean
  /** Tells someone (WebXR teleportation) about floors as they come and go. */
  onFloorsChanged: (listener: (added: AbstractMesh[], removed: AbstractMesh[]) => void) => void
}

/** `teleportable`: the entity's mesh is a floor for teleporting (double click on desktop, WebXR teleport in VR). */
export function teleportSystem (): TeleportSystem {
  const floors = new Map<EntityView, AbstractMesh>()
  const listeners: Array<(added: AbstractMesh[], removed: AbstractMesh[]) => void> = []
  const notify = (added: AbstractMesh[], removed: AbstractMesh[]): void => {
    for (const l of listeners) l(added, removed)
  }
  const drop = (view: EntityView): void => {
    const mesh = floors.get(view)
    if (!mesh) return
    floors.delete(view)
    notify([], [mesh])
  }
  return {
    name: 'teleportable',
    components: ['teleportable', 'mesh_builder'],
    apply (view, components) {
      const current = floors.get(view)
      const wanted = components.teleportable === true ? view.mesh : null
      if (current === wanted) return
      drop(view)
      if (wanted) {
        floors.set(view, wanted)
        notify([wanted], [])
      }
    },
    remove: drop,
    floorMeshes: () => [...floors.values()],
    isFloor: mesh => [...floors.values()].includes(mesh),
    onFloorsChanged: listener => { listeners.push(listener) }
  }
}
