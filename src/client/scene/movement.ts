import { UniversalCamera } from '@babylonjs/core/Cameras/universalCamera.js'
import type { Camera } from '@babylonjs/core/Cameras/camera.js'
import { Vector3 } from '@babylonjs/core/Maths/math.vector.js'
import type { Scene } from '@babylonjs/core/scene.js'
import { MoveThrottle } from '../move-throttle.ts'
import { movePayload, startPlacement, yawOf, type Pose } from '../pose.ts'
import { EYE_HEIGHT, type MovePayload } from '../../shared/world.ts'
import type { SelfHands } from './self-hands.ts'
import type { Standing } from './xr.ts'

const KEYS = {
  up: [87, 38], // W, ↑
  down: [83, 40], // S, ↓
  left: [65, 37], // A, ←
  right: [68, 39] // D, →
}

/** Tap-to-walk speed, metres per second. */
const WALK_SPEED = 2.5

function poseOfCamera (camera: Camera): Pose {
  const p = camera.globalPosition
  const q = camera.absoluteRotation
  return { position: { x: p.x, y: p.y, z: p.z }, rotation: { x: q.x, y: q.y, z: q.z, w: q.w } }
}

/**
 * The desktop camera (WASD / arrows to walk at a fixed eye height, drag to
 * look) and the `i_moved` stream: once placed, every frame offers the head
 * and hand poses to the throttle, which lets through at most 20 changed
 * poses a second. Nothing is sent before the first placement, so a
 * resumed pose is never overwritten by the default one.
 */
export class Movement {
  readonly camera: UniversalCamera
  readonly #scene: Scene
  readonly #hands: SelfHands
  readonly #send: (payload: MovePayload) => boolean
  readonly #throttle = new MoveThrottle()
  #placed = false
  /** Where a tap on a touch screen asked to walk to (eye position), until reached. */
  #walkTarget: Vector3 | null = null
  #eyeY = EYE_HEIGHT
  /** True while an immersive session drives the camera. */
  inXR = false

  constructor (scene: Scene, hands: SelfHands, send: (payload: MovePayload) => boolean) {
    this.#scene = scene
    this.#hands = hands
    this.#send = send
    const camera = new UniversalCamera('desktop-camera', new Vector3(0, EYE_HEIGHT, -4), scene)
    camera.minZ = 0.05
    camera.speed = 0.12
    camera.angularSensibility = 2500
    camera.inertia = 0.6
    camera.keysUp = [...KEYS.up]
    camera.keysDown = [...KEYS.down]
    camera.keysLeft = [...KEYS.left]
    camera.keysRight = [...KEYS.right]
    camera.keysUpward = []
    camera.keysDownward = []
    camera.attachControl()
    this.camera = camera
    scene.activeCamera = camera
  }

  get placed (): boolean {
    return this.#placed
  }

  /** First placement only: resume at the own head pose, else the spawn point. */
  placeOnce (ownHead: Pose | null, spawn: Vector3 | null): void {
    if (this.#placed) return
    this.#placed = true
    const start = startPlacement(ownHead, spawn)
    this.camera.position.set(start.position.x, start.position.y, start.position.z)
    this.camera.rotation.set(0, start.yaw, 0)
    this.#eyeY = start.position.y
  }

  /** Desktop teleport onto a floor point, keeping eye height above it. */
  teleportTo (point: Vector3): void {
    this.#walkTarget = null
    this.camera.position.set(point.x, point.y + EYE_HEIGHT, point.z)
    this.#eyeY = point.y + EYE_HEIGHT
  }

  /** Walks over to a floor point at walking speed (tap to walk). */
  walkTo (point: Vector3): void {
    this.#walkTarget = new Vector3(point.x, point.y + EYE_HEIGHT, point.z)
  }

  /** Where the desktop camera stands: the floor under it and its heading. */
  standing (): Standing {
    const p = this.camera.position
    return { x: p.x, floorY: this.#eyeY - EYE_HEIGHT, z: p.z, yaw: yawOf(this.camera.absoluteRotation) }
  }

  /** Back from VR: stand where the headset was, facing where it faced, at eye height. */
  standAt (standing: Standing): void {
    this.#eyeY = standing.floorY + EYE_HEIGHT
    this.camera.position.set(standing.x, this.#eyeY, standing.z)
    this.camera.rotation.set(0, standing.yaw, 0)
  }

  /** After a (re)join the server must hear the pose again even if unchanged. */
  resetThrottle (): void {
    this.#throttle.reset()
  }

  /** The pose the head is at now (XR camera while in VR). */
  headPose (): Pose {
    return poseOfCamera(this.#scene.activeCamera ?? this.camera)
  }

  /** Per frame, first: a walk towards a tapped point goes on; walking stays at eye height (VR moves the head freely). */
  keepLevel (seconds: number): void {
    if (this.inXR) return
    const target = this.#walkTarget
    if (target) {
      const p = this.camera.position
      const dx = target.x - p.x
      const dz = target.z - p.z
      const left = Math.hypot(dx, dz)
      const step = Math.min(left, WALK_SPEED * Math.min(seconds, 0.1))
      if (left > 1e-3) {
        p.x += dx / left * step
        p.z += dz / left * step
      }
      if (left - step < 1e-3) {
        this.#eyeY = target.y
        this.#walkTarget = null
      }
    }
    this.camera.position.y = this.#eyeY
  }

  /** Per frame, after the hands moved: maybe send `i_moved`. */
  sendPose (now: number): void {
    if (!this.#placed) return
    const payload = movePayload(this.headPose(), this.#hands.pose('left'), this.#hands.pose('right'))
    const out = this.#throttle.offer(payload, now)
    if (out && !this.#send(out)) this.#throttle.reset()
  }
}
