import { HemisphericLight } from '@babylonjs/core/Lights/hemisphericLight.js'
import { DirectionalLight } from '@babylonjs/core/Lights/directionalLight.js'
import { ShadowGenerator } from '@babylonjs/core/Lights/Shadows/shadowGenerator.js'
import { CreateSphere } from '@babylonjs/core/Meshes/Builders/sphereBuilder.js'
import { VertexBuffer } from '@babylonjs/core/Buffers/buffer.js'
import type { AbstractMesh } from '@babylonjs/core/Meshes/abstractMesh.js'
import { StandardMaterial } from '@babylonjs/core/Materials/standardMaterial.js'
import { Color3, Color4 } from '@babylonjs/core/Maths/math.color.js'
import { Vector3 } from '@babylonjs/core/Maths/math.vector.js'
import { Scene } from '@babylonjs/core/scene.js'

const ZENITH = new Color3(0.29, 0.5, 0.82)
const HORIZON = new Color3(0.82, 0.88, 0.94)
const BELOW = new Color3(0.55, 0.6, 0.62)
/** How far back along its rays the sun stands (its shadow frustum is fitted to the casters). */
const SHADOW_RANGE = 40

/** A dome around the viewer, blue overhead fading to a pale horizon (vertex colours, no texture). */
function skyDome (scene: Scene): AbstractMesh {
  const dome = CreateSphere('sky-dome', { diameter: 900, segments: 24, sideOrientation: 1 }, scene)
  const positions = dome.getVerticesData(VertexBuffer.PositionKind)!
  const colors = new Float32Array(positions.length / 3 * 4)
  for (let i = 0, c = 0; i < positions.length; i += 3, c += 4) {
    const up = positions[i + 1] / 450
    const color = up >= 0 ? Color3.Lerp(HORIZON, ZENITH, Math.pow(up, 0.6)) : Color3.Lerp(HORIZON, BELOW, Math.min(1, -up * 4))
    colors.set([color.r, color.g, color.b, 1], c)
  }
  dome.setVerticesData(VertexBuffer.ColorKind, colors)
  const material = new StandardMaterial('sky-material', scene)
  material.disableLighting = true
  material.emissiveColor = Color3.White()
  material.diffuseColor = Color3.Black()
  material.specularColor = Color3.Black()
  dome.material = material
  dome.infiniteDistance = true
  dome.isPickable = false
  dome.applyFog = false
  dome.alwaysSelectAsActiveMesh = true
  return dome
}

/** What lights the room: sky light, a sun with soft shadows, haze; and which meshes cast shadows. */
export interface Environment {
  /** The mesh casts a shadow (and receives them). */
  castShadow: (mesh: AbstractMesh) => void
}

/**
 * The outdoor look: a sky dome, a warm sun from the side with soft (PCF)
 * shadows from one 1024² map fitted to the casters, a cool sky fill light,
 * and distance haze in the horizon's colour so the far edge of the ground
 * melts into the sky.
 */
export function createEnvironment (scene: Scene): Environment {
  scene.clearColor = new Color4(HORIZON.r, HORIZON.g, HORIZON.b, 1)
  scene.ambientColor = new Color3(0.25, 0.25, 0.28)
  scene.fogMode = Scene.FOGMODE_EXP2
  scene.fogDensity = 0.012
  scene.fogColor = HORIZON.clone()
  skyDome(scene)

  const sky = new HemisphericLight('sky', new Vector3(0, 1, 0), scene)
  sky.intensity = 0.62
  sky.diffuse = new Color3(0.9, 0.95, 1)
  sky.groundColor = new Color3(0.42, 0.4, 0.38)
  sky.specular = Color3.Black()

  const direction = new Vector3(-0.45, -1, 0.6).normalize()
  const sun = new DirectionalLight('sun', direction, scene)
  sun.intensity = 0.85
  sun.diffuse = new Color3(1, 0.95, 0.85)
  sun.position = direction.scale(-SHADOW_RANGE)
  sun.autoCalcShadowZBounds = true
  const shadows = new ShadowGenerator(1024, sun)
  shadows.usePercentageCloserFiltering = true
  shadows.filteringQuality = ShadowGenerator.QUALITY_MEDIUM
  shadows.bias = 0.002
  shadows.normalBias = 0.02
  shadows.darkness = 0.35

  return {
    castShadow (mesh) {
      shadows.addShadowCaster(mesh, false)
      mesh.receiveShadows = true
    }
  }
}
