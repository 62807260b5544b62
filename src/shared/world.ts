/**
 * The words a room's world is made of, the same for the server and the browser client: entities
 * and their components, the diffs that change them, poses and hands, and the events clients send.
 * Nothing here touches Node or the DOM, so both sides import it.
 */

/** The components of one entity: `{ position: [0, 1, 0], color: "#ff0000", ... }`. */
export type Components = Record<string, unknown>

/** A room's world: `{ entityId: { componentName: value } }`. */
export type EntityMap = Record<string, Components>

/**
 * One batch of changes to a room's world, as sent to clients (`entities_diff`) and persisted.
 * - creates: the entity is (re)created with exactly these components;
 * - updates: these components are merged into the live entity;
 * - deletes: the entity is removed (values are ignored; `true` by convention).
 */
export interface EntitiesDiff {
  creates: EntityMap
  updates: EntityMap
  deletes: Record<string, unknown>
}

/** [x, y, z, qx, qy, qz, qw] */
export type PackedPose = [number, number, number, number, number, number, number]

export const HANDS = ['left', 'right'] as const
export type Hand = typeof HANDS[number]

export const isHand = (value: unknown): value is Hand => HANDS.includes(value as Hand)

/** Payload of the client's `i_moved` push. */
export interface MovePayload {
  pose: { head: PackedPose } & { [H in Hand]?: PackedPose }
}

/** A standing person's eye height above the floor, in metres: where the camera and a new avatar's head go. */
export const EYE_HEIGHT = 1.6

/** The room events a client may send itself, inside its `event` push. */
export const CLIENT_EVENTS = {
  pickedUp: 'user_picked_up',
  released: 'user_released'
} as const
export type ClientEventName = typeof CLIENT_EVENTS[keyof typeof CLIENT_EVENTS]

export const isClientEvent = (name: unknown): name is ClientEventName =>
  name === CLIENT_EVENTS.pickedUp || name === CLIENT_EVENTS.released
