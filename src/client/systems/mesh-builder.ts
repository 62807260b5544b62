import { CreateBox } from '@babylonjs/core/Meshes/Builders/boxBuilder.js'
import { CreateGround } from '@babylonjs/core/Meshes/Builders/groundBuilder.js'
import { CreateSphere } from '@babylonjs/core/Meshes/Builders/sphereBuilder.js'
import type { Mesh } from '@babylonjs/core/Meshes/mesh.js'
import { jsonEqual } from '../entity-store.ts'
import { readMeshBuilder, type MeshSpec } from '../values.ts'
import { ensureMaterial, type EntityView } from '../scene/entity-view.ts'
import type { System, SystemContext } from '../scene/system.ts'

function build (ctx: SystemContext, view: EntityView, spec: MeshSpec): Mesh {
  const name = `mesh:${view.id}`
  switch (spec.kind) {
    case 'box': return CreateBox(name, { width: spec.width, height: spec.height, depth: spec.depth }, ctx.scene)
    case 'ground': return CreateGround(name, { width: spec.width, height: spec.height, subdivisions: spec.subdivisions }, ctx.scene)
    case 'sphere': return CreateSphere(name, { diameter: spec.diameter, segments: 16 }, ctx.scene)
  }
}

/** `mesh_builder`: builds the entity's shape under its root; rebuilt when the spec changes. */
export function meshBuilderSystem (ctx: SystemContext): System {
  const built = new WeakMap<EntityView, MeshSpec>()
  return {
    name: 'mesh_builder',
    components: ['mesh_builder'],
    apply (view, components) {
      const spec = readMeshBuilder(components.mesh_builder)
      const previous = built.get(view)
      if (spec && previous && jsonEqual(spec, previous) && view.mesh) return
      view.mesh?.dispose(false, false)
      view.mesh = null
      built.delete(view)
      if (!spec) return
      const mesh = build(ctx, view, spec)
      mesh.parent = view.root
      mesh.material = ensureMaterial(ctx.scene, view)
      mesh.metadata = { entityId: view.id }
      ctx.shade(mesh, spec.kind !== 'ground')
      view.mesh = mesh
      built.set(view, spec)
    }
  }
}

/** The spec a view's mesh was built from (for systems that scale textures to it). */
export function meshSpecOf (components: Readonly<Record<string, unknown>>): MeshSpec | null {
  return readMeshBuilder(components.mesh_builder)
}
