import { TransformNode } from '@babylonjs/core/Meshes/transformNode.js'
import { CreateSphere } from '@babylonjs/core/Meshes/Builders/sphereBuilder.js'
import type { Mesh } from '@babylonjs/core/Meshes/mesh.js'
import { StandardMaterial } from '@babylonjs/core/Materials/standardMaterial.js'
import { Color3 } from '@babylonjs/core/Maths/math.color.js'
import { Quaternion, Vector3 } from '@babylonjs/core/Maths/math.vector.js'
import type { Camera } from '@babylonjs/core/Cameras/camera.js'
import type { Scene } from '@babylonjs/core/scene.js'
import type { Pose } from '../pose.ts'
import { HANDS, type Hand } from '../../shared/world.ts'
import { VIRTUAL_HAND_OFFSET } from '../systems/avatar.ts'

function poseOf (node: TransformNode): Pose {
  const p = node.position
  const q = node.rotationQuaternion ?? Quaternion.Identity()
  return { position: { x: p.x, y: p.y, z: p.z }, rotation: { x: q.x, y: q.y, z: q.z, w: q.w } }
}

/**
 * This client's two hands, as world-space nodes (objects held by the own
 * user hang under them). In VR they follow the controller grips; otherwise
 * they are virtual hands at a fixed offset in front of the camera.
 */
export class SelfHands {
  readonly nodes: Record<Hand, TransformNode>
  readonly #controllers: Partial<Record<Hand, TransformNode>> = {}
  readonly #markers: Record<Hand, Mesh>

  constructor (scene: Scene) {
    const material = new StandardMaterial('self-hand', scene)
    material.diffuseColor = new Color3(0.9, 0.85, 0.8)
    this.nodes = {} as Record<Hand, TransformNode>
    this.#markers = {} as Record<Hand, Mesh>
    for (const hand of HANDS) {
      const node = new TransformNode(`self-${hand}`, scene)
      node.rotationQuaternion = Quaternion.Identity()
      this.nodes[hand] = node
      const marker = CreateSphere(`self-${hand}-marker`, { diameter: 0.07, segments: 8 }, scene)
      marker.parent = node
      marker.material = material
      marker.isPickable = false
      marker.setEnabled(false)
      this.#markers[hand] = marker
    }
  }

  /** A tracked controller grip for a hand (null when it goes away). */
  setController (hand: Hand, node: TransformNode | null): void {
    if (node) this.#controllers[hand] = node
    else delete this.#controllers[hand]
    this.#markers[hand].setEnabled(node !== null)
  }

  tracked (hand: Hand): boolean {
    return this.#controllers[hand] !== undefined
  }

  /** Moves both hands for this frame. */
  update (camera: Camera): void {
    const world = camera.getWorldMatrix()
    const headRotation = camera.absoluteRotation
    for (const hand of HANDS) {
      const node = this.nodes[hand]
      const grip = this.#controllers[hand]
      if (grip) {
        grip.computeWorldMatrix(true)
        node.position.copyFrom(grip.getAbsolutePosition())
        grip.absoluteRotationQuaternion && node.rotationQuaternion!.copyFrom(grip.absoluteRotationQuaternion)
      } else {
        Vector3.TransformCoordinatesToRef(VIRTUAL_HAND_OFFSET[hand], world, node.position)
        node.rotationQuaternion!.copyFrom(headRotation)
      }
      node.computeWorldMatrix(true)
    }
  }

  pose (hand: Hand): Pose {
    return poseOf(this.nodes[hand])
  }
}
