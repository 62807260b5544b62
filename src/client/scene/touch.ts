import type { UniversalCamera } from '@babylonjs/core/Cameras/universalCamera.js'
import type { FreeCameraMouseInput } from '@babylonjs/core/Cameras/Inputs/freeCameraMouseInput.js'
import type { Vector3 } from '@babylonjs/core/Maths/math.vector.js'

/** A touch that moved less than this many CSS pixels and was this short is a tap. */
const TAP_SLOP = 12
const TAP_MS = 350
/**
 * Babylon's pixels per radian of turn while a finger drags: a phone is a few hundred pixels
 * wide, so the mouse's figure would take about eight swipes to turn round; with this a
 * full-width swipe turns about a quarter.
 */
const TOUCH_ANGULAR_SENSIBILITY = 600

export interface TouchOptions {
  canvas: HTMLCanvasElement
  camera: UniversalCamera
  /** The floor point under a canvas position (CSS pixels from its corner), or null. */
  floorAt: (x: number, y: number) => Vector3 | null
  walkTo: (point: Vector3) => void
}

/**
 * Phones and tablets: one finger drags the view around (as the mouse does),
 * a tap on the floor walks there. The canvas takes every touch, so the page
 * does not scroll or zoom under a finger that meant to look.
 */
export function bindTouch (o: TouchOptions): void {
  o.canvas.style.touchAction = 'none'
  // Babylon's touch input turns a held finger into a joystick; dragging the view directly reads better.
  o.camera.inputs.removeByType('FreeCameraTouchInput')
  const mouse = o.camera.inputs.attached.mouse as FreeCameraMouseInput | undefined
  if (mouse) mouse.touchEnabled = true

  const mouseSensibility = o.camera.angularSensibility
  const downs = new Map<number, { x: number, y: number, at: number }>()
  o.canvas.addEventListener('pointerdown', event => {
    // Read by the camera on each move: a finger turns faster than the mouse on one page.
    o.camera.angularSensibility = event.pointerType === 'touch' ? TOUCH_ANGULAR_SENSIBILITY : mouseSensibility
    if (event.pointerType === 'touch') downs.set(event.pointerId, { x: event.clientX, y: event.clientY, at: event.timeStamp })
  })
  o.canvas.addEventListener('pointercancel', event => downs.delete(event.pointerId))
  o.canvas.addEventListener('pointerup', event => {
    const down = downs.get(event.pointerId)
    downs.delete(event.pointerId)
    if (!down || downs.size > 0) return
    if (Math.hypot(event.clientX - down.x, event.clientY - down.y) > TAP_SLOP || event.timeStamp - down.at > TAP_MS) return
    const rect = o.canvas.getBoundingClientRect()
    const point = o.floorAt(event.clientX - rect.left, event.clientY - rect.top)
    if (point) o.walkTo(point)
  })
}
