import type { Scene } from '@babylonjs/core/scene.js'
import type { AbstractMesh } from '@babylonjs/core/Meshes/abstractMesh.js'
import type { EntityView } from './entity-view.ts'

/** Components of one entity, live from the store (read only). */
export type ComponentsView = Readonly<Record<string, unknown>>

/**
 * A system owns one component (or a few that only make sense together): it
 * turns their values into Babylon state. `apply` runs when the entity is
 * created or any of `components` changed or went away — a system must treat
 * an absent component as "undo what I did".
 */
export interface System {
  /** For logs. */
  readonly name: string
  /** Components this system reacts to. */
  readonly components: readonly string[]
  /** The entity's watched components changed (or it was just created). */
  apply: (view: EntityView, components: ComponentsView) => void
  /** The entity is about to be disposed. */
  remove?: (view: EntityView) => void
  /** Once per frame, before rendering. */
  update?: () => void
}

/** What every system may use. */
export interface SystemContext {
  readonly scene: Scene
  /** This client's user id, once known. */
  selfId: () => string | null
  /** Current components of an entity (empty when unknown). */
  components: (id: string) => ComponentsView
  /** A new mesh of the room: lit by the sun's shadows; `casts` when it also casts one (not the ground). */
  shade: (mesh: AbstractMesh, casts: boolean) => void
}
