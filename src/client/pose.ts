import { EYE_HEIGHT, type MovePayload, type PackedPose } from '../shared/world.ts'

/** A position and an orientation quaternion, in world space. */
export interface Pose {
  position: { x: number, y: number, z: number }
  rotation: { x: number, y: number, z: number, w: number }
}

/** Millimetres for positions. */
const POSITION_DECIMALS = 3
/** About 0.01° for quaternion components. */
const ROTATION_DECIMALS = 4

function round (value: number, decimals: number): number {
  const f = 10 ** decimals
  const r = Math.round(value * f) / f
  return Object.is(r, -0) ? 0 : r
}

/**
 * Packs a pose into the wire's `[x, y, z, qx, qy, qz, qw]`, rounded so that
 * sensor noise below a millimetre does not count as movement. The quaternion
 * is normalised and its sign made canonical (w ≥ 0): q and -q are the same rotation.
 */
export function packPose (pose: Pose): PackedPose {
  const { x, y, z } = pose.position
  let { x: qx, y: qy, z: qz, w: qw } = pose.rotation
  const len = Math.hypot(qx, qy, qz, qw)
  if (!Number.isFinite(len) || len === 0) {
    qx = 0; qy = 0; qz = 0; qw = 1
  } else {
    const s = (qw < 0 ? -1 : 1) / len
    qx *= s; qy *= s; qz *= s; qw *= s
  }
  return [
    round(x, POSITION_DECIMALS), round(y, POSITION_DECIMALS), round(z, POSITION_DECIMALS),
    round(qx, ROTATION_DECIMALS), round(qy, ROTATION_DECIMALS), round(qz, ROTATION_DECIMALS), round(qw, ROTATION_DECIMALS)
  ]
}

/** Reads a wire pose; null unless it is 7 finite numbers. */
export function unpackPose (value: unknown): Pose | null {
  if (!Array.isArray(value) || value.length !== 7) return null
  if (!value.every(n => typeof n === 'number' && Number.isFinite(n))) return null
  const [x, y, z, qx, qy, qz, qw] = value as number[]
  return { position: { x, y, z }, rotation: { x: qx, y: qy, z: qz, w: qw } }
}

/** Builds the `i_moved` payload; hands are included only when known. */
export function movePayload (head: Pose, left?: Pose | null, right?: Pose | null): MovePayload {
  const pose: MovePayload['pose'] = { head: packPose(head) }
  if (left) pose.left = packPose(left)
  if (right) pose.right = packPose(right)
  return { pose }
}

function samePacked (a: PackedPose | undefined, b: PackedPose | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  for (let i = 0; i < 7; i++) if (a[i] !== b[i]) return false
  return true
}

/** True when two `i_moved` payloads describe the same (rounded) pose. */
export function samePose (a: MovePayload, b: MovePayload): boolean {
  return samePacked(a.pose.head, b.pose.head) &&
    samePacked(a.pose.left, b.pose.left) &&
    samePacked(a.pose.right, b.pose.right)
}

/** Where the camera starts: eye position and heading (radians about +Y, 0 = facing +Z). */
export interface StartPlacement {
  position: { x: number, y: number, z: number }
  yaw: number
}

/** Heading of a rotation: the angle of its forward (+Z) vector around +Y. */
export function yawOf (rotation: Pose['rotation']): number {
  const { x, y, z, w } = rotation
  const fx = 2 * (x * z + w * y)
  const fz = 1 - 2 * (x * x + y * y)
  if (Math.abs(fx) < 1e-9 && Math.abs(fz) < 1e-9) return 0
  return Math.atan2(fx, fz)
}

/**
 * Resume at the own avatar's last head pose when the server still has it,
 * else stand on the spawn point, else at the origin — at eye height, level.
 */
export function startPlacement (ownHead: Pose | null, spawn: { x: number, y: number, z: number } | null): StartPlacement {
  if (ownHead) return { position: { ...ownHead.position }, yaw: yawOf(ownHead.rotation) }
  const base = spawn ?? { x: 0, y: 0, z: 0 }
  return { position: { x: base.x, y: base.y + EYE_HEIGHT, z: base.z }, yaw: 0 }
}
