import { RoomScene, type RoomSceneOptions } from './room-scene.ts'

/**
 * Creates the 3D scene, or shows #webgl-error and returns null when WebGL is
 * unavailable (chat and presence keep working without it).
 */
export function createRoomScene (options: RoomSceneOptions, webglError: HTMLElement | null): RoomScene | null {
  try {
    return RoomScene.create(options)
  } catch (err) {
    console.warn('3D view disabled:', err)
    options.canvas.hidden = true
    options.canvas.style.display = 'none' // page CSS giving the canvas a display would beat `hidden`
    if (webglError) webglError.hidden = false
    return null
  }
}
