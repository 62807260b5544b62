import type { TransformNode } from '@babylonjs/core/Meshes/transformNode.js'
import { readParent } from '../values.ts'
import type { Hand } from '../../shared/world.ts'
import type { EntityView } from '../scene/entity-view.ts'
import type { System, SystemContext } from '../scene/system.ts'
import { applyPosition } from './position.ts'

/** Finds the node for "<user_id>:<hand>": own hands for the own id, avatar hands otherwise. */
export type HandResolver = (userId: string, hand: Hand) => TransformNode | null

/**
 * `parent`: "<user_id>:<hand>" attaches the entity to that hand (it sits at
 * the hand, keeping its own `rotation` relative to it); null detaches it back
 * to its `position`. Resolved every frame, since the avatar holding it may
 * appear after the entity, or leave.
 */
export function parentSystem (ctx: SystemContext, resolve: HandResolver): System {
  const wanted = new Map<EntityView, { userId: string, hand: Hand }>()

  const detach = (view: EntityView): void => {
    if (!view.attached && view.root.parent === null) return
    view.root.parent = null
    view.attached = false
    applyPosition(view, ctx.components(view.id))
  }

  const attach = (view: EntityView, node: TransformNode): void => {
    if (view.root.parent === node) return
    view.root.parent = node
    view.attached = true
    applyPosition(view, {})
  }

  const resolveOne = (view: EntityView): void => {
    const target = wanted.get(view)
    const node = target ? resolve(target.userId, target.hand) : null
    if (node) attach(view, node)
    else detach(view)
  }

  return {
    name: 'parent',
    components: ['parent'],
    apply (view, comps) {
      const target = readParent(comps.parent)
      if (target) wanted.set(view, target)
      else wanted.delete(view)
      resolveOne(view)
    },
    remove (view) {
      wanted.delete(view)
    },
    update () {
      for (const view of wanted.keys()) resolveOne(view)
    }
  }
}
