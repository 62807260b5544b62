import { Color3 } from '@babylonjs/core/Maths/math.color.js'
import { readColor } from '../values.ts'
import { DEFAULT_COLOR, ensureMaterial } from '../scene/entity-view.ts'
import type { System, SystemContext } from '../scene/system.ts'

/** `color`: the material's diffuse colour ([r, g, b] in 0..1 or "#rrggbb"). */
export function colorSystem (ctx: SystemContext): System {
  return {
    name: 'color',
    components: ['color'],
    apply (view, components) {
      const rgb = readColor(components.color)
      const material = ensureMaterial(ctx.scene, view)
      material.diffuseColor = rgb ? new Color3(rgb[0], rgb[1], rgb[2]) : DEFAULT_COLOR.clone()
    }
  }
}
