import { TransformNode } from '@babylonjs/core/Meshes/transformNode.js'
import { Mesh } from '@babylonjs/core/Meshes/mesh.js'
import { CreateBox } from '@babylonjs/core/Meshes/Builders/boxBuilder.js'
import { CreateSphere } from '@babylonjs/core/Meshes/Builders/sphereBuilder.js'
import { CreatePlane } from '@babylonjs/core/Meshes/Builders/planeBuilder.js'
import { CreateCylinder } from '@babylonjs/core/Meshes/Builders/cylinderBuilder.js'
import { StandardMaterial } from '@babylonjs/core/Materials/standardMaterial.js'
import { DynamicTexture } from '@babylonjs/core/Materials/Textures/dynamicTexture.js'
import { Color3 } from '@babylonjs/core/Maths/math.color.js'
import { Quaternion, Vector3 } from '@babylonjs/core/Maths/math.vector.js'
import type { Scene } from '@babylonjs/core/scene.js'
import { unpackPose, type Pose } from '../pose.ts'
import type { Hand } from '../../shared/world.ts'
import { colorForId } from '../values.ts'
import type { EntityView } from '../scene/entity-view.ts'
import type { ComponentsView, System, SystemContext } from '../scene/system.ts'

/** Where a hand without a tracked pose sits, relative to the head (also the desktop client's virtual hands). */
export const VIRTUAL_HAND_OFFSET: Record<Hand, Vector3> = {
  left: new Vector3(-0.28, -0.3, 0.65),
  right: new Vector3(0.28, -0.3, 0.65)
}

/** Where a part is heading: the last pose received; the drawn part eases towards it. */
interface Target {
  position: Vector3
  rotation: Quaternion
}

interface AvatarParts {
  root: TransformNode
  head: TransformNode
  body: Mesh
  hands: Record<Hand, TransformNode>
  label: Mesh
  labelTexture: DynamicTexture
  labelText: string
  material: StandardMaterial
  targets: { head: Target | null, left: Target | null, right: Target | null }
  /** Nothing drawn yet: the first poses are taken as they are. */
  fresh: boolean
}

/** Time constant of the easing, in ms: poses arrive every 50 ms, this smooths them without lagging much. */
const EASE_MS = 60
/** A jump longer than this (a teleport) is not eased. */
const SNAP_DISTANCE = 2
const BODY_HEIGHT = 0.62
/** From the head's centre down to the body's centre. */
const BODY_DROP = 0.5

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

function targetOf (pose: Pose): Target {
  const r = pose.rotation
  return {
    position: new Vector3(pose.position.x, pose.position.y, pose.position.z),
    rotation: new Quaternion(r.x, r.y, r.z, r.w).normalize()
  }
}

/** Moves a node a share `k` of the way to its target (all the way when far or `snap`). */
function ease (node: TransformNode, target: Target, k: number, snap: boolean): void {
  node.rotationQuaternion ??= Quaternion.Identity()
  if (snap || Vector3.Distance(node.position, target.position) > SNAP_DISTANCE) {
    node.position.copyFrom(target.position)
    node.rotationQuaternion.copyFrom(target.rotation)
    return
  }
  Vector3.LerpToRef(node.position, target.position, k, node.position)
  Quaternion.SlerpToRef(node.rotationQuaternion, target.rotation, k, node.rotationQuaternion)
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

function build (ctx: SystemContext, view: EntityView, visor: StandardMaterial): AvatarParts {
  const scene = ctx.scene
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
  const eyes = CreateBox(`avatar-visor:${id}`, { width: 0.2, height: 0.08, depth: 0.03 }, scene)
  eyes.parent = head
  eyes.position.set(0, 0.03, 0.125)
  eyes.material = visor
  const body = CreateCylinder(`avatar-body:${id}`, { height: BODY_HEIGHT, diameterTop: 0.26, diameterBottom: 0.34, tessellation: 16 }, scene)
  body.parent = root
  body.material = material
  body.rotationQuaternion = Quaternion.Identity()
  ctx.shade(skull, true)
  ctx.shade(body, true)

  const hands = {} as Record<Hand, TransformNode>
  for (const hand of ['left', 'right'] as const) {
    const node = new TransformNode(`avatar-${hand}:${id}`, scene)
    const ball = CreateSphere(`avatar-${hand}-mesh:${id}`, { diameter: 0.09, segments: 8 }, scene)
    ball.parent = node
    ball.material = material
    ctx.shade(ball, true)
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
  return { root, head, body, hands, label, labelTexture, labelText: '', material, targets: { head: null, left: null, right: null }, fresh: true }
}

const yawOnly = new Quaternion()

/** Eases head and tracked hands towards their targets; the body stands under the head, turned with it. */
function place (parts: AvatarParts, k: number, snap: boolean): void {
  const head = parts.targets.head
  if (head) ease(parts.head, head, k, snap)
  for (const hand of ['left', 'right'] as const) {
    const target = parts.targets[hand]
    if (target) ease(parts.hands[hand], target, k, snap)
  }
  const p = parts.head.position
  const q = parts.head.rotationQuaternion ?? Quaternion.Identity()
  const yaw = Math.atan2(2 * (q.x * q.z + q.w * q.y), 1 - 2 * (q.x * q.x + q.y * q.y))
  Quaternion.RotationYawPitchRollToRef(yaw, 0, 0, yawOnly)
  parts.body.position.set(p.x, p.y - BODY_DROP, p.z)
  parts.body.rotationQuaternion!.copyFrom(yawOnly)
  parts.label.position.set(p.x, p.y + 0.32, p.z)
  parts.fresh = parts.fresh && head === null
}

function dispose (parts: AvatarParts): void {
  // Hands may hang under the head or the root; dispose them explicitly so nothing leaks.
  for (const hand of Object.values(parts.hands)) hand.dispose(false, true)
  parts.root.dispose(false, true)
  parts.labelTexture.dispose()
}

/**
 * `avatar` (with `head`, `left`, `right`, `username`): other users' bodies —
 * a head with a glowing visor where the face looks, a torso under it turned
 * with the head, a sphere per hand and a name tag that always faces the
 * viewer. Poses come 20 times a second; between them the parts ease towards
 * the latest one every frame, so motion is smooth. The client's own avatar
 * (entity id = own user id) is never drawn.
 */
export function avatarSystem (ctx: SystemContext): AvatarSystem {
  const avatars = new Map<string, { view: EntityView, parts: AvatarParts }>()
  const visor = new StandardMaterial('avatar-visor', ctx.scene)
  visor.diffuseColor = new Color3(0.04, 0.05, 0.08)
  visor.emissiveColor = new Color3(0.05, 0.3, 0.45)
  visor.specularColor = new Color3(0.8, 0.8, 0.8)

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
      entry = { view, parts: build(ctx, view, visor) }
      avatars.set(view.id, entry)
    }
    const { parts } = entry
    const head = poseOf(components, 'head')
    if (head) parts.targets.head = targetOf(head)
    for (const hand of ['left', 'right'] as const) {
      const node = parts.hands[hand]
      const pose = poseOf(components, hand)
      if (pose) {
        if (parts.targets[hand] === null) node.parent = parts.root
        parts.targets[hand] = targetOf(pose)
      } else {
        parts.targets[hand] = null
        node.parent = parts.head
        node.position.copyFrom(VIRTUAL_HAND_OFFSET[hand])
        node.rotationQuaternion = Quaternion.Identity()
      }
    }
    if (parts.fresh) place(parts, 1, true)
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
      const k = 1 - Math.exp(-ctx.scene.getEngine().getDeltaTime() / EASE_MS)
      for (const { parts } of avatars.values()) place(parts, k, false)
    },
    handNode (userId, hand) {
      return avatars.get(userId)?.parts.hands[hand] ?? null
    },
    headNode (userId) {
      return avatars.get(userId)?.parts.head ?? null
    }
  }
}
