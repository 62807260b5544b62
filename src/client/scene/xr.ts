import { WebXRExperienceHelper } from '@babylonjs/core/XR/webXRExperienceHelper.js'
import { WebXRInput } from '@babylonjs/core/XR/webXRInput.js'
import { WebXRState } from '@babylonjs/core/XR/webXRTypes.js'
import { WebXRMotionControllerTeleportation } from '@babylonjs/core/XR/features/WebXRControllerTeleportation.js'
// Registers the Touch controllers (every Quest profile falls back to "oculus-touch"), which teleportation needs.
import '@babylonjs/core/XR/motionController/webXROculusTouchMotionController.js'
import type { WebXRInputSource } from '@babylonjs/core/XR/webXRInputSource.js'
import type { AbstractMesh } from '@babylonjs/core/Meshes/abstractMesh.js'
import type { Scene } from '@babylonjs/core/scene.js'
import { yawOf } from '../pose.ts'
import type { Hand } from '../../shared/world.ts'
import type { SelfHands } from './self-hands.ts'
import type { TeleportSystem } from '../systems/teleport.ts'
import { stickStep, thumbstick } from './xr-locomotion.ts'

interface XRSystemLike {
  isSessionSupported: (mode: string) => Promise<boolean>
}

/** True when the browser can start an immersive VR session. */
export async function immersiveVrSupported (): Promise<boolean> {
  const xr = (navigator as Navigator & { xr?: XRSystemLike }).xr
  if (!xr) return false
  try {
    return await xr.isSessionSupported('immersive-vr')
  } catch {
    return false
  }
}

/** Where a person stands: a floor point and a heading (radians about +Y, 0 = facing +Z). */
export interface Standing {
  x: number
  floorY: number
  z: number
  yaw: number
}

export interface XROptions {
  scene: Scene
  button: HTMLButtonElement | null
  hands: SelfHands
  teleport: TeleportSystem
  /** Where the person stands on the desktop, read when entering VR. */
  standing: () => Standing
  /** Squeeze pressed (true) or released (false) on a controller. */
  squeeze: (hand: Hand, pressed: boolean) => void
  /** Entered VR; or left it, standing where the headset last was. */
  inXR: (active: boolean, standing: Standing | null) => void
}

/** The parts of Babylon's WebXR this client uses. */
export interface RoomXR {
  baseExperience: WebXRExperienceHelper
  input: WebXRInput
  teleportation: WebXRMotionControllerTeleportation
}

/**
 * WebXR, only where immersive VR is supported. This is the subset of
 * Babylon's default experience (`scene.createDefaultXRExperienceAsync`) the
 * room needs — experience helper, controller input, teleportation onto
 * `teleportable` meshes — built from its parts: the default one also brings
 * pointer selection, near interaction and hand tracking, which would add
 * about 250 KiB (node materials, particles, physics) to the bundle.
 * Our own #enter-vr button enters; controller grips become the own hands,
 * squeeze grabs, the left stick walks and the right one teleports and turns.
 *
 * Entering keeps the person where they stood: Babylon offsets the reference
 * space to the desktop camera's floor point and heading (its "compensation
 * on first frame"), and the floor's height is set here, since Babylon puts
 * it at 0. Leaving hands the headset's floor point and heading back.
 */
export async function setupXR (o: XROptions): Promise<RoomXR | null> {
  if (!(await immersiveVrSupported())) return null
  const baseExperience = await WebXRExperienceHelper.CreateAsync(o.scene)
  const camera = baseExperience.camera
  // Controller models and profiles would be fetched from a CDN: the own hands are drawn instead.
  const input = new WebXRInput(baseExperience.sessionManager, camera, {
    doNotLoadControllerMeshes: true,
    disableOnlineControllerRepository: true
  })
  const teleportation = baseExperience.featuresManager.enableFeature(WebXRMotionControllerTeleportation.Name, 'latest', {
    floorMeshes: o.teleport.floorMeshes(),
    xrInput: input,
    forceHandedness: 'right'
  }) as WebXRMotionControllerTeleportation
  const xr: RoomXR = { baseExperience, input, teleportation }
  o.scene.onDisposeObservable.addOnce(() => {
    input.dispose()
    baseExperience.dispose()
  })
  o.teleport.onFloorsChanged((added: AbstractMesh[], removed: AbstractMesh[]) => {
    for (const mesh of added) teleportation.addFloorMesh(mesh)
    for (const mesh of removed) teleportation.removeFloorMesh(mesh)
  })

  const controllers: Partial<Record<Hand, WebXRInputSource>> = {}
  input.onControllerAddedObservable.add(source => {
    const hand = source.inputSource.handedness
    if (hand !== 'left' && hand !== 'right') return
    controllers[hand] = source
    o.hands.setController(hand, source.grip ?? source.pointer)
  })
  input.onControllerRemovedObservable.add(source => {
    const hand = source.inputSource.handedness
    if (hand !== 'left' && hand !== 'right') return
    if (controllers[hand] === source) delete controllers[hand]
    o.hands.setController(hand, null)
  })
  // Squeeze straight from the session's standard events: no controller profile needed.
  baseExperience.sessionManager.onXRSessionInit.add(session => {
    const onSqueeze = (pressed: boolean) => (event: Event): void => {
      const hand = (event as Event & { inputSource?: { handedness?: string } }).inputSource?.handedness
      if (hand === 'left' || hand === 'right') o.squeeze(hand, pressed)
    }
    session.addEventListener('squeezestart', onSqueeze(true))
    session.addEventListener('squeezeend', onSqueeze(false))
  })

  // The floor under the headset, followed every frame, for leaving VR where it stands.
  let floorY = 0
  let lastFrame = 0
  baseExperience.sessionManager.onXRFrameObservable.add(() => {
    if (baseExperience.state !== WebXRState.IN_XR) return
    const now = performance.now()
    const seconds = lastFrame === 0 ? 0 : (now - lastFrame) / 1000
    lastFrame = now
    const head = camera.rotationQuaternion
    stickStep(camera.position, yawOf(head), thumbstick(controllers.left?.inputSource.gamepad), seconds)
    floorY = camera.position.y - camera.realWorldHeight
  })

  baseExperience.onStateChangedObservable.add(state => {
    if (o.button) o.button.textContent = state === WebXRState.IN_XR ? 'Exit VR' : 'Enter VR'
    if (state === WebXRState.IN_XR) {
      lastFrame = 0
      o.inXR(true, null)
    } else if (state === WebXRState.NOT_IN_XR) {
      const p = camera.position
      o.inXR(false, { x: p.x, floorY, z: p.z, yaw: yawOf(camera.rotationQuaternion) })
    }
  })

  const enter = async (): Promise<void> => {
    const standing = o.standing()
    floorY = standing.floorY
    await baseExperience.enterXRAsync('immersive-vr', 'local-floor')
    // Babylon placed the camera at the desktop camera's x, z and heading with y = 0;
    // the first frame adds the headset's height above the floor to this y.
    camera.position.y = standing.floorY
  }

  if (o.button) {
    const button = o.button
    button.hidden = false
    button.addEventListener('click', () => {
      if (baseExperience.state === WebXRState.IN_XR) {
        void baseExperience.exitXRAsync()
      } else if (baseExperience.state === WebXRState.NOT_IN_XR) {
        enter().catch((err: unknown) => console.error('could not enter VR', err))
      }
    })
  }
  return xr
}
