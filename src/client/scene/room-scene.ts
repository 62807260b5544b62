import { Engine } from '@babylonjs/core/Engines/engine.js'
import { Scene } from '@babylonjs/core/scene.js'
import '@babylonjs/core/Culling/ray.js' // scene.pick
import type { EntityChange, EntityStore } from '../entity-store.ts'
import { unpackPose } from '../pose.ts'
import type { MovePayload } from '../../shared/world.ts'
import { avatarSystem, type AvatarSystem } from '../systems/avatar.ts'
import { colorSystem } from '../systems/color.ts'
import { holdableSystem } from '../systems/holdable.ts'
import { materialSystem } from '../systems/material.ts'
import { meshBuilderSystem } from '../systems/mesh-builder.ts'
import { parentSystem } from '../systems/parent.ts'
import { positionSystem } from '../systems/position.ts'
import { rotationSystem } from '../systems/rotation.ts'
import { scalingSystem } from '../systems/scaling.ts'
import { spawnSystem } from '../systems/spawn.ts'
import { teleportSystem } from '../systems/teleport.ts'
import { createEnvironment } from './environment.ts'
import { DESKTOP_REACH, Grabber, HAND_REACH } from './grab.ts'
import { showLoading } from './loading.ts'
import { bindTouch } from './touch.ts'
import { Movement } from './movement.ts'
import { SelfHands } from './self-hands.ts'
import type { SystemContext } from './system.ts'
import { World } from './world.ts'
import { setupXR } from './xr.ts'

export interface RoomSceneOptions {
  canvas: HTMLCanvasElement
  store: EntityStore
  selfId: () => string | null
  sendMove: (payload: MovePayload) => boolean
  sendEvent: (eventName: string, payload: Record<string, unknown>) => boolean
  enterVrButton: HTMLButtonElement | null
}

const EMPTY = Object.freeze({})

/**
 * The 3D side of the room: engine, scene, entity systems, the own camera
 * and hands, grabbing and WebXR. `create` throws when WebGL is unavailable.
 */
export class RoomScene {
  readonly engine: Engine
  readonly scene: Scene
  readonly world: World
  readonly movement: Movement
  readonly hands: SelfHands
  readonly grabber: Grabber
  readonly avatars: AvatarSystem
  readonly #store: EntityStore
  readonly #selfId: () => string | null
  readonly #spawn: ReturnType<typeof spawnSystem>
  readonly #loaded: () => void

  private constructor (o: RoomSceneOptions, engine: Engine) {
    this.engine = engine
    this.#store = o.store
    this.#selfId = o.selfId
    const scene = new Scene(engine)
    this.scene = scene
    const environment = createEnvironment(scene)
    this.#loaded = showLoading(o.canvas)

    const ctx: SystemContext = {
      scene,
      selfId: o.selfId,
      components: id => o.store.get(id) ?? EMPTY,
      shade: (mesh, casts) => {
        if (casts) environment.castShadow(mesh)
        else mesh.receiveShadows = true
      }
    }
    this.hands = new SelfHands(scene)
    const holdables = holdableSystem()
    const teleport = teleportSystem()
    const avatars = avatarSystem(ctx)
    this.avatars = avatars
    this.#spawn = spawnSystem(ctx)
    const resolveHand = (userId: string, hand: 'left' | 'right'): ReturnType<typeof avatars.handNode> =>
      userId === o.selfId() ? this.hands.nodes[hand] : avatars.handNode(userId, hand)
    // Order matters: shapes before their looks, transforms before parenting.
    this.world = new World(scene, o.store, [
      meshBuilderSystem(ctx),
      materialSystem(ctx),
      colorSystem(ctx),
      positionSystem(),
      rotationSystem(),
      scalingSystem(),
      this.#spawn,
      teleport,
      holdables,
      avatars,
      parentSystem(ctx, resolveHand)
    ])

    this.movement = new Movement(scene, this.hands, o.sendMove)
    this.grabber = new Grabber({
      store: o.store,
      world: this.world,
      holdables,
      selfId: o.selfId,
      sendEvent: o.sendEvent,
      handPosition: hand => this.hands.nodes[hand].getAbsolutePosition().clone()
    })

    scene.onBeforeRenderObservable.add(() => {
      const camera = scene.activeCamera ?? this.movement.camera
      this.movement.keepLevel(engine.getDeltaTime() / 1000)
      this.hands.update(camera)
      this.world.update()
      this.movement.sendPose(performance.now())
      this.grabber.highlight(this.movement.inXR ? null : camera.globalPosition, DESKTOP_REACH)
    })

    this.#bindDesktopInput(o.canvas, teleport.isFloor)
    bindTouch({
      canvas: o.canvas,
      camera: this.movement.camera,
      floorAt: (x, y) => {
        const pick = scene.pick(x, y, mesh => teleport.isFloor(mesh))
        return pick?.hit && pick.pickedPoint ? pick.pickedPoint : null
      },
      walkTo: point => this.movement.walkTo(point)
    })
    void setupXR({
      scene,
      button: o.enterVrButton,
      hands: this.hands,
      teleport,
      squeeze: (hand, pressed) => {
        if (pressed) this.grabber.grab(hand, this.hands.nodes[hand].getAbsolutePosition(), HAND_REACH)
        else this.grabber.release(hand)
      },
      standing: () => this.movement.standing(),
      inXR: (active, standing) => {
        this.movement.inXR = active
        if (standing) this.movement.standAt(standing)
      }
    }).catch((err: unknown) => console.warn('WebXR unavailable', err))
  }

  /** Creates engine and scene on the canvas; throws if WebGL cannot be had. */
  static create (o: RoomSceneOptions): RoomScene {
    const engine = new Engine(o.canvas, true, { preserveDrawingBuffer: false, stencil: true, disableWebGL2Support: false }, true)
    if (!engine._gl) {
      engine.dispose()
      throw new Error('WebGL not supported')
    }
    const room = new RoomScene(o, engine)
    const resize = (): void => engine.resize()
    window.addEventListener('resize', resize)
    if (typeof ResizeObserver !== 'undefined') new ResizeObserver(resize).observe(o.canvas)
    engine.runRenderLoop(() => room.scene.render())
    return room
  }

  get camera (): Movement['camera'] {
    return this.movement.camera
  }

  applyChanges (changes: EntityChange[]): void {
    this.world.applyChanges(changes)
  }

  /** After an `entities_state`: the first one decides where the camera starts. */
  stateReplaced (): void {
    this.#loaded()
    if (this.movement.placed) return
    const self = this.#selfId()
    const own = self === null ? undefined : this.#store.get(self)
    this.movement.placeOnce(unpackPose(own?.head), this.#spawn.spawnPosition())
  }

  /** After each successful (re)join. */
  rejoined (): void {
    this.movement.resetThrottle()
  }

  #bindDesktopInput (canvas: HTMLCanvasElement, isFloor: ReturnType<typeof teleportSystem>['isFloor']): void {
    if (!canvas.hasAttribute('tabindex')) canvas.tabIndex = 0
    // Focus without scrolling, in the capture phase so that Babylon's camera input, whose own
    // focus() would scroll, finds the canvas already focused: on a narrow page scrolled down to
    // the chat, a finger on what shows of the view must not jump the page back up.
    canvas.addEventListener('pointerdown', () => canvas.focus({ preventScroll: true }), { capture: true })
    canvas.addEventListener('keydown', event => {
      if (event.repeat || event.ctrlKey || event.metaKey || event.altKey) return
      if (event.key === 'g' || event.key === 'G') {
        event.preventDefault()
        this.grabber.toggle('right', this.movement.camera.globalPosition, DESKTOP_REACH)
      }
    })
    canvas.addEventListener('dblclick', event => {
      const rect = canvas.getBoundingClientRect()
      const pick = this.scene.pick(event.clientX - rect.left, event.clientY - rect.top, mesh => isFloor(mesh))
      if (pick?.hit && pick.pickedPoint) this.movement.teleportTo(pick.pickedPoint)
    })
  }
}
