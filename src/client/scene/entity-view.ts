import type { Scene } from '@babylonjs/core/scene.js'
import { TransformNode } from '@babylonjs/core/Meshes/transformNode.js'
import type { Mesh } from '@babylonjs/core/Meshes/mesh.js'
import { StandardMaterial } from '@babylonjs/core/Materials/standardMaterial.js'
import { Color3 } from '@babylonjs/core/Maths/math.color.js'

/** Default surface colour of an entity without `color`. */
export const DEFAULT_COLOR = new Color3(0.75, 0.75, 0.78)

/**
 * The Babylon side of one entity. `root` carries position/rotation/scaling
 * and is what a hand holds; the mesh (if any) hangs under it.
 */
export interface EntityView {
  readonly id: string
  readonly root: TransformNode
  /** The shape from `mesh_builder`, or null. */
  mesh: Mesh | null
  /** One material per entity, kept across mesh rebuilds. */
  material: StandardMaterial | null
  /** True while `parent` attaches the root to a hand. */
  attached: boolean
}

export function createView (scene: Scene, id: string): EntityView {
  const root = new TransformNode(`entity:${id}`, scene)
  root.metadata = { entityId: id }
  return { id, root, mesh: null, material: null, attached: false }
}

export function ensureMaterial (scene: Scene, view: EntityView): StandardMaterial {
  if (!view.material) {
    const material = new StandardMaterial(`material:${view.id}`, scene)
    material.diffuseColor = DEFAULT_COLOR.clone()
    material.specularColor = new Color3(0.15, 0.15, 0.15)
    view.material = material
    if (view.mesh) view.mesh.material = material
  }
  return view.material
}
