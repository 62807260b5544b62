import { WebXRExperienceHelper } from '@babylonjs/core/XR/webXRExperienceHelper.js'
import { WebXRInput } from '@babylonjs/core/XR/webXRInput.js'
import { WebXRState } from '@babylonjs/core/XR/webXRTypes.js'
import { WebXRMotionControllerTeleportation } from '@babylonjs/core/XR/features/WebXRControllerTeleportation.js'
import type { AbstractMesh } from '@babylonjs/core/Meshes/abstractMesh.js'
import type { Scene } from '@babylonjs/core/scene.js'
import type { Hand } from '../protocol.ts'
import type { SelfHands } from './self-hands.ts'
import type { TeleportSystem } from '../systems/teleport.ts'

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

export interface XROptions {
  scene: Scene
  button: HTMLButtonElement | null
  hands: SelfHands
  teleport: TeleportSystem
  /** Squeeze pressed (true) or released (false) on a controller. */
  squeeze: (hand: Hand, pressed: boolean) => void
  /** Entering or leaving VR. */
  inXR: (active: boolean) => void
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
 * Our own #enter-vr button enters; controller grips become the own hands and
 * squeeze grabs.
 */
export async function setupXR (o: XROptions): Promise<RoomXR | null> {
  if (!(await immersiveVrSupported())) return null
  const baseExperience = await WebXRExperienceHelper.CreateAsync(o.scene)
  // Controller models and profiles would be fetched from a CDN: the own hands are drawn instead.
  const input = new WebXRInput(baseExperience.sessionManager, baseExperience.camera, {
    doNotLoadControllerMeshes: true,
    disableOnlineControllerRepository: true
  })
  const teleportation = baseExperience.featuresManager.enableFeature(WebXRMotionControllerTeleportation.Name, 'latest', {
    floorMeshes: o.teleport.floorMeshes(),
    xrInput: input
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

  xr.input.onControllerAddedObservable.add(source => {
    const hand = source.inputSource.handedness
    if (hand === 'left' || hand === 'right') o.hands.setController(hand, source.grip ?? source.pointer)
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
  xr.input.onControllerRemovedObservable.add(source => {
    const hand = source.inputSource.handedness
    if (hand === 'left' || hand === 'right') o.hands.setController(hand, null)
  })
  xr.baseExperience.onStateChangedObservable.add(state => {
    o.inXR(state === WebXRState.IN_XR)
    if (o.button) o.button.textContent = state === WebXRState.IN_XR ? 'Exit VR' : 'Enter VR'
  })

  if (o.button) {
    const button = o.button
    button.hidden = false
    button.addEventListener('click', () => {
      if (xr.baseExperience.state === WebXRState.IN_XR) {
        void xr.baseExperience.exitXRAsync()
      } else {
        xr.baseExperience.enterXRAsync('immersive-vr', 'local-floor').catch((err: unknown) => {
          console.error('could not enter VR', err)
        })
      }
    })
  }
  return xr
}
