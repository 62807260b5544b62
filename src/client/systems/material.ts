import { DynamicTexture } from '@babylonjs/core/Materials/Textures/dynamicTexture.js'
import { Texture } from '@babylonjs/core/Materials/Textures/texture.js'
import type { Scene } from '@babylonjs/core/scene.js'
import { ensureMaterial, type EntityView } from '../scene/entity-view.ts'
import type { System, SystemContext } from '../scene/system.ts'
import { meshSpecOf } from './mesh-builder.ts'

const GRID_TEXTURE_SIZE = 256
/** Metres per grid cell. */
const GRID_CELL = 1

/** A light tile with a thin dark border and a faint centre cross; tiled once per metre. */
function gridTexture (scene: Scene, name: string): DynamicTexture {
  const texture = new DynamicTexture(name, { width: GRID_TEXTURE_SIZE, height: GRID_TEXTURE_SIZE }, scene, true)
  const ctx = texture.getContext()
  const s = GRID_TEXTURE_SIZE
  ctx.fillStyle = '#e8e8e8'
  ctx.fillRect(0, 0, s, s)
  ctx.strokeStyle = '#d0d0d0'
  ctx.lineWidth = 2
  ctx.beginPath()
  ctx.moveTo(s / 2, 0); ctx.lineTo(s / 2, s)
  ctx.moveTo(0, s / 2); ctx.lineTo(s, s / 2)
  ctx.stroke()
  ctx.strokeStyle = '#6b6b6b'
  ctx.lineWidth = 6
  ctx.strokeRect(0, 0, s, s)
  texture.update(true)
  texture.wrapU = Texture.WRAP_ADDRESSMODE
  texture.wrapV = Texture.WRAP_ADDRESSMODE
  texture.anisotropicFilteringLevel = 8
  return texture
}

/**
 * `material`: named looks. Only "grid" exists: a tiled 1 m grid, tinted by
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
