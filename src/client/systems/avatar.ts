import { TransformNode } from '@babylonjs/core/Meshes/transformNode.js'
import { Mesh } from '@babylonjs/core/Meshes/mesh.js'
import { CreateBox } from '@babylonjs/core/Meshes/Builders/boxBuilder.js'
import { CreateSphere } from '@babylonjs/core/Meshes/Builders/sphereBuilder.js'
import { CreatePlane } from '@babylonjs/core/Meshes/Builders/planeBuilder.js'
import { StandardMaterial } from '@babylonjs/core/Materials/standardMaterial.js'
import { DynamicTexture } from '@babylonjs/core/Materials/Textures/dynamicTexture.js'
import { Color3 } from '@babylonjs/core/Maths/math.color.js'
import { Quaternion, Vector3 } from '@babylonjs/core/Maths/math.vector.js'
import type { Scene } from '@babylonjs/core/scene.js'
import { unpackPose, type Pose } from '../pose.ts'
import type { Hand } from '../protocol.ts'
import { colorForId } from '../values.ts'
import type { EntityView } from '../scene/entity-view.ts'
import type { ComponentsView, System, SystemContext } from '../scene/system.ts'

/** Where a hand without a tracked pose sits, relative to the head (also the desktop client's virtual hands). */
export const VIRTUAL_HAND_OFFSET: Record<Hand, Vector3> = {
  left: new Vector3(-0.28, -0.3, 0.65),
  right: new Vector3(0.28, -0.3, 0.65)
}

interface AvatarParts {
  root: TransformNode
  head: TransformNode
  hands: Record<Hand, TransformNode>
  label: Mesh
  labelTexture: DynamicTexture
  labelText: string
  material: StandardMaterial
}

export interface AvatarSystem extends System {
  /** The node a user's hand is at (a tracked pose, else a virtual hand under the head), or null. */
  handNode: (userId: string, hand: Hand) => TransformNode | null
  /** The node of a user's head, or null (e.g. for voice indicators). */
  headNode: (userId: string) => TransformNode | null
}

/** Head pose, then hand poses: top-level components, or inside an `avatar` object. */
function poseOf (components: ComponentsView, part: 'head' | Hand): Pose | null {
  const own = unpackPose(components[part])
  if (own) return own
  const avatar = components.avatar
  if (typeof avatar === 'object' && avatar !== null && !Array.isArray(avatar)) {
    return unpackPose((avatar as Record<string, unknown>)[part])
  }
  return null
}

function setPose (node: TransformNode, pose: Pose): void {
  node.position.set(pose.position.x, pose.position.y, pose.position.z)
  const r = pose.rotation
  node.rotationQuaternion = new Quaternion(r.x, r.y, r.z, r.w).normalize()
}

const LABEL_W = 512
const LABEL_H = 96

function drawLabel (texture: DynamicTexture, text: string): void {
  // Babylon's ICanvasRenderingContext omits text alignment; the real context has it.
  const ctx = texture.getContext() as unknown as CanvasRenderingContext2D
  ctx.clearRect(0, 0, LABEL_W, LABEL_H)
  ctx.font = 'bold 52px sans-serif'
  const shown = text.length > 24 ? `${text.slice(0, 23)}…` : text
  const width = Math.min(LABEL_W - 8, ctx.measureText(shown).width + 40)
  ctx.fillStyle = 'rgba(20, 20, 28, 0.7)'
  ctx.fillRect((LABEL_W - width) / 2, 8, width, LABEL_H - 16)
  ctx.fillStyle = '#ffffff'
  ctx.textAlign = 'center'
  ctx.textBaseline = 'middle'
  ctx.fillText(shown, LABEL_W / 2, LABEL_H / 2 + 2)
  texture.update(true)
}

function build (scene: Scene, view: EntityView, visor: StandardMaterial): AvatarParts {
  const id = view.id
  const root = new TransformNode(`avatar:${id}`, scene)
  root.parent = view.root
  const [r, g, b] = colorForId(id)
  const material = new StandardMaterial(`avatar-material:${id}`, scene)
  material.diffuseColor = new Color3(r, g, b)
  material.specularColor = new Color3(0.2, 0.2, 0.2)

  const head = new TransformNode(`avatar-head:${id}`, scene)
  head.parent = root
  const skull = CreateBox(`avatar-skull:${id}`, { width: 0.22, height: 0.26, depth: 0.24 }, scene)
  skull.parent = head
  skull.material = material
  const eyes = CreateBox(`avatar-visor:${id}`, { width: 0.18, height: 0.07, depth: 0.02 }, scene)
  eyes.parent = head
  eyes.position.set(0, 0.03, 0.125)
  eyes.material = visor

  const hands = {} as Record<Hand, TransformNode>
  for (const hand of ['left', 'right'] as const) {
    const node = new TransformNode(`avatar-${hand}:${id}`, scene)
    const ball = CreateSphere(`avatar-${hand}-mesh:${id}`, { diameter: 0.09, segments: 8 }, scene)
    ball.parent = node
    ball.material = material
    hands[hand] = node
  }

  const labelTexture = new DynamicTexture(`avatar-label:${id}`, { width: LABEL_W, height: LABEL_H }, scene, true)
  labelTexture.hasAlpha = true
  const labelMaterial = new StandardMaterial(`avatar-label-material:${id}`, scene)
  labelMaterial.diffuseTexture = labelTexture
  labelMaterial.emissiveColor = new Color3(1, 1, 1)
  labelMaterial.disableLighting = true
  labelMaterial.useAlphaFromDiffuseTexture = true
  labelMaterial.backFaceCulling = false
  const label = CreatePlane(`avatar-label-plane:${id}`, { width: 0.8, height: 0.8 * LABEL_H / LABEL_W }, scene)
  label.parent = root
  label.material = labelMaterial
  label.billboardMode = Mesh.BILLBOARDMODE_ALL
  label.isPickable = false
  for (const mesh of root.getChildMeshes(false)) mesh.isPickable = false
  for (const hand of Object.values(hands)) for (const mesh of hand.getChildMeshes(false)) mesh.isPickable = false
  return { root, head, hands, label, labelTexture, labelText: '', material }
}

function dispose (parts: AvatarParts): void {
  // Hands may hang under the head or the root; dispose them explicitly so nothing leaks.
  for (const hand of Object.values(parts.hands)) hand.dispose(false, true)
  parts.root.dispose(false, true)
  parts.labelTexture.dispose()
}

/**
 * `avatar` (with `head`, `left`, `right`, `username`): other users' bodies —
 * a head box facing its pose, a sphere per hand and a name tag. The client's
 * own avatar (entity id = own user id) is never drawn.
 */
export function avatarSystem (ctx: SystemContext): AvatarSystem {
  const avatars = new Map<string, { view: EntityView, parts: AvatarParts }>()
  const visor = new StandardMaterial('avatar-visor', ctx.scene)
  visor.diffuseColor = new Color3(0.05, 0.05, 0.08)
  visor.specularColor = new Color3(0.6, 0.6, 0.6)

  const drop = (view: EntityView): void => {
    const entry = avatars.get(view.id)
    if (!entry) return
    avatars.delete(view.id)
    dispose(entry.parts)
  }

  const apply = (view: EntityView, components: ComponentsView): void => {
    if (components.avatar === undefined || components.avatar === null || view.id === ctx.selfId()) {
      drop(view)
      return
    }
    let entry = avatars.get(view.id)
    if (!entry) {
      entry = { view, parts: build(ctx.scene, view, visor) }
      avatars.set(view.id, entry)
    }
    const { parts } = entry
    const head = poseOf(components, 'head')
    if (head) setPose(parts.head, head)
    for (const hand of ['left', 'right'] as const) {
      const node = parts.hands[hand]
      const pose = poseOf(components, hand)
      if (pose) {
        node.parent = parts.root
        setPose(node, pose)
      } else {
        node.parent = parts.head
        node.position.copyFrom(VIRTUAL_HAND_OFFSET[hand])
        node.rotationQuaternion = Quaternion.Identity()
      }
    }
    parts.label.position.set(parts.head.position.x, parts.head.position.y + 0.32, parts.head.position.z)
    const name = typeof components.username === 'string' && components.username !== '' ? components.username : 'anonymous'
    if (name !== parts.labelText) {
      parts.labelText = name
      drawLabel(parts.labelTexture, name)
    }
  }

  return {
    name: 'avatar',
    components: ['avatar', 'head', 'left', 'right', 'username'],
    apply,
    remove: drop,
    update () {
      // The own id may become known after the avatar was built (join reply).
      const self = ctx.selfId()
      if (self !== null) {
        const own = avatars.get(self)
        if (own) drop(own.view)
      }
    },
    handNode (userId, hand) {
      return avatars.get(userId)?.parts.hands[hand] ?? null
    },
    headNode (userId) {
      return avatars.get(userId)?.parts.head ?? null
    }
  }
}
