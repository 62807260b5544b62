import { Color3 } from '@babylonjs/core/Maths/math.color.js'
import type { Vector3 } from '@babylonjs/core/Maths/math.vector.js'
import type { EntityStore } from '../entity-store.ts'
import { CLIENT_EVENTS, type Hand } from '../../shared/world.ts'
import { parentValue, readParent } from '../values.ts'
import type { HoldableSystem } from '../systems/holdable.ts'
import type { EntityView } from './entity-view.ts'
import type { World } from './world.ts'

/** Desktop reach: the G key grabs within this distance of the head. */
export const DESKTOP_REACH = 2
/** VR reach: squeeze grabs within this distance of the controller. */
export const HAND_REACH = 0.35

const HIGHLIGHT = new Color3(0.25, 0.22, 0.05)

export interface GrabberOptions {
  store: EntityStore
  world: World
  holdables: HoldableSystem
  selfId: () => string | null
  /** Sends `event`; false when it could not be sent (then nothing changes locally). */
  sendEvent: (eventName: string, payload: Record<string, unknown>) => boolean
  /** World position of one of the own hands. */
  handPosition: (hand: Hand) => Vector3
}

/**
 * Picking up and putting down holdable entities. The server is told
 * (`user_picked_up` / `user_released`) and the `parent` change is applied to
 * the local store at once, so the object follows the hand without waiting
 * for the round trip; the server's diff then confirms or corrects it.
 */
export class Grabber {
  readonly #o: GrabberOptions
  #highlighted: EntityView | null = null

  constructor (options: GrabberOptions) {
    this.#o = options
  }

  /** The entity this hand holds according to the store, or null. */
  held (hand: Hand): string | null {
    const self = this.#o.selfId()
    if (self === null) return null
    const wanted = parentValue(self, hand)
    for (const view of this.#o.world.views()) {
      if (this.#o.store.get(view.id)?.parent === wanted) return view.id
    }
    return null
  }

  #free = (view: EntityView): boolean => readParent(this.#o.store.get(view.id)?.parent) === null

  /** Nearest free holdable within `reach` of `origin`. */
  candidate (origin: Vector3, reach: number): EntityView | null {
    return this.#o.holdables.nearest(origin, reach, this.#free)
  }

  /** G key: release what the hand holds, else grab the nearest. */
  toggle (hand: Hand, origin: Vector3, reach: number): void {
    if (this.held(hand) !== null) this.release(hand)
    else this.grab(hand, origin, reach)
  }

  grab (hand: Hand, origin: Vector3, reach: number): boolean {
    const self = this.#o.selfId()
    if (self === null || this.held(hand) !== null) return false
    const target = this.candidate(origin, reach)
    if (!target) return false
    if (!this.#o.sendEvent(CLIENT_EVENTS.pickedUp, { target_id: target.id, hand })) return false
    this.#o.world.applyChanges(this.#o.store.update(target.id, { parent: parentValue(self, hand) }))
    return true
  }

  release (hand: Hand): boolean {
    const id = this.held(hand)
    if (id === null) return false
    // Leave it where the hand let go, here and for everyone else.
    const p = this.#o.handPosition(hand)
    const position: [number, number, number] = [p.x, p.y, p.z]
    if (!this.#o.sendEvent(CLIENT_EVENTS.released, { target_id: id, hand, position })) return false
    this.#o.world.applyChanges(this.#o.store.update(id, { parent: null, position }))
    return true
  }

  /** Per frame: tint what G would pick up. */
  highlight (origin: Vector3 | null, reach: number): void {
    const next = origin ? this.candidate(origin, reach) : null
    if (next === this.#highlighted) return
    if (this.#highlighted?.material) this.#highlighted.material.emissiveColor = Color3.Black()
    this.#highlighted = next
    if (next?.material) next.material.emissiveColor = HIGHLIGHT.clone()
  }
}
