import type { Vector3 } from '@babylonjs/core/Maths/math.vector.js'

/** Walking speed with the stick pushed all the way, metres per second. */
export const STICK_SPEED = 2
/** Stick travel ignored, so a resting stick's drift does not walk. */
export const STICK_DEADZONE = 0.15

/** Thumbstick axes of an `xr-standard` gamepad (axes 2 and 3), or [0, 0]. */
export function thumbstick (gamepad: Gamepad | null | undefined): [number, number] {
  if (!gamepad || gamepad.axes.length < 4) return [0, 0]
  return [gamepad.axes[2], gamepad.axes[3]]
}

/**
 * Smooth walking on the floor plane: the stick's up (negative y) is where
 * the head looks, levelled; its x strafes. Moves `position` in place and
 * returns true when it moved. `yaw` is the head's heading (0 = +Z).
 */
export function stickStep (position: Vector3, yaw: number, [x, y]: [number, number], seconds: number): boolean {
  const length = Math.hypot(x, y)
  if (length < STICK_DEADZONE || seconds <= 0) return false
  const scale = (Math.min(1, length) - STICK_DEADZONE) / (1 - STICK_DEADZONE) / length * STICK_SPEED * Math.min(seconds, 0.1)
  const forward = -y * scale
  const strafe = x * scale
  const sin = Math.sin(yaw)
  const cos = Math.cos(yaw)
  position.x += sin * forward + cos * strafe
  position.z += cos * forward - sin * strafe
  return true
}
