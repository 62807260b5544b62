import { DynamicTexture } from '@babylonjs/core/Materials/Textures/dynamicTexture.js'
import { Texture } from '@babylonjs/core/Materials/Textures/texture.js'
import type { Scene } from '@babylonjs/core/scene.js'
import { ensureMaterial, type EntityView } from '../scene/entity-view.ts'
import type { System, SystemContext } from '../scene/system.ts'
import { meshSpecOf } from './mesh-builder.ts'

const GRID_TEXTURE_SIZE = 512
/** Metres per texture tile: 5 × 5 one-metre squares. */
const GRID_CELL = 5
const SQUARES = 5

/**
 * Paving: 5 × 5 slabs of one metre, each a slightly different stone tone,
 * thin joints between them and a darker line every 5 m, so distances read at a glance.
 */
function gridTexture (scene: Scene, name: string): DynamicTexture {
  const texture = new DynamicTexture(name, { width: GRID_TEXTURE_SIZE, height: GRID_TEXTURE_SIZE }, scene, true)
  const ctx = texture.getContext()
  const s = GRID_TEXTURE_SIZE
  const slab = s / SQUARES
  for (let i = 0; i < SQUARES; i++) {
    for (let j = 0; j < SQUARES; j++) {
      const shade = 226 + ((i * 7 + j * 13) % 5) * 4
      ctx.fillStyle = `rgb(${shade}, ${shade - 3}, ${shade - 10})`
      ctx.fillRect(i * slab, j * slab, slab, slab)
    }
  }
  ctx.strokeStyle = '#b9b4aa'
  ctx.lineWidth = 3
  ctx.beginPath()
  for (let k = 1; k < SQUARES; k++) {
    ctx.moveTo(k * slab, 0); ctx.lineTo(k * slab, s)
    ctx.moveTo(0, k * slab); ctx.lineTo(s, k * slab)
  }
  ctx.stroke()
  ctx.strokeStyle = '#8a857c'
  ctx.lineWidth = 8
  ctx.strokeRect(0, 0, s, s)
  texture.update(true)
  texture.wrapU = Texture.WRAP_ADDRESSMODE
  texture.wrapV = Texture.WRAP_ADDRESSMODE
  texture.anisotropicFilteringLevel = 8
  return texture
}

/**
 * `material`: named looks. Only "grid" exists: paving in 1 m slabs, tinted by
 * `color` (the texture is multiplied by the diffuse colour).
 */
export function materialSystem (ctx: SystemContext): System {
  const grids = new WeakMap<EntityView, DynamicTexture>()
  return {
    name: 'material',
    components: ['material', 'mesh_builder'],
    apply (view, components) {
      const wantsGrid = components.material === 'grid'
      let texture = grids.get(view)
      if (!wantsGrid) {
        if (texture) {
          if (view.material) view.material.diffuseTexture = null
          texture.dispose()
          grids.delete(view)
        }
        return
      }
      const material = ensureMaterial(ctx.scene, view)
      if (!texture) {
        texture = gridTexture(ctx.scene, `grid:${view.id}`)
        grids.set(view, texture)
        material.diffuseTexture = texture
      }
      const spec = meshSpecOf(components)
      const [w, h] = spec?.kind === 'ground' ? [spec.width, spec.height] : spec?.kind === 'box' ? [spec.width, spec.depth] : [1, 1]
      texture.uScale = w / GRID_CELL
      texture.vScale = h / GRID_CELL
    },
    remove (view) {
      grids.get(view)?.dispose()
      grids.delete(view)
    }
  }
}
