import { CreateTorus } from '@babylonjs/core/Meshes/Builders/torusBuilder.js'
import { CreateSphere } from '@babylonjs/core/Meshes/Builders/sphereBuilder.js'
import { StandardMaterial } from '@babylonjs/core/Materials/standardMaterial.js'
import { Color3 } from '@babylonjs/core/Maths/math.color.js'
import type { Mesh } from '@babylonjs/core/Meshes/mesh.js'
import type { TransformNode } from '@babylonjs/core/Meshes/transformNode.js'
import type { Scene } from '@babylonjs/core/scene.js'

interface Marks { speaking: Mesh, muted: Mesh }

/**
 * Voice on the avatars: a green halo above the head of whoever speaks, a red dot beside the
 * head of whoever is muted. Hung under the avatar's head, so they go with it.
 */
export class VoiceIndicators {
  readonly #marks = new Map<string, Marks>()
  readonly #speakingMaterial: StandardMaterial
  readonly #mutedMaterial: StandardMaterial

  constructor (private readonly scene: Scene, private readonly headNode: (userId: string) => TransformNode | null) {
    this.#speakingMaterial = glowing(scene, 'voice-speaking', new Color3(0.2, 0.9, 0.4))
    this.#mutedMaterial = glowing(scene, 'voice-muted', new Color3(0.9, 0.2, 0.2))
  }

  /** Shows exactly these users as speaking and as muted. */
  show (speaking: ReadonlySet<string>, muted: ReadonlySet<string>): void {
    for (const userId of new Set([...speaking, ...muted, ...this.#marks.keys()])) {
      const marks = this.#marksOf(userId)
      if (!marks) continue
      marks.speaking.setEnabled(speaking.has(userId))
      marks.muted.setEnabled(muted.has(userId))
    }
  }

  #marksOf (userId: string): Marks | null {
    const head = this.headNode(userId)
    const known = this.#marks.get(userId)
    // An avatar rebuilt (or gone) took its marks with it.
    if (known && !known.speaking.isDisposed() && known.speaking.parent === head) return known
    this.#marks.delete(userId)
    if (!head) return null
    const speaking = CreateTorus(`voice-speaking:${userId}`, { diameter: 0.26, thickness: 0.025, tessellation: 24 }, this.scene)
    speaking.parent = head
    speaking.position.y = 0.2
    speaking.material = this.#speakingMaterial
    const muted = CreateSphere(`voice-muted:${userId}`, { diameter: 0.06, segments: 8 }, this.scene)
    muted.parent = head
    muted.position.set(0.15, 0.1, 0)
    muted.material = this.#mutedMaterial
    for (const mesh of [speaking, muted]) {
      mesh.isPickable = false
      mesh.setEnabled(false)
    }
    const marks = { speaking, muted }
    this.#marks.set(userId, marks)
    return marks
  }
}

function glowing (scene: Scene, name: string, color: Color3): StandardMaterial {
  const material = new StandardMaterial(name, scene)
  material.diffuseColor = color
  material.emissiveColor = color
  material.disableLighting = true
  return material
}
