import type { FastifyRequest } from 'fastify'
import { Errors } from '../errors.ts'
import { isInCharge, type Role } from '../shared/roles.ts'

/** What decides who may manage a room: its owner's visitor id. */
export interface OwnedRoom {
  id: string
  ownerId: string | null
}

/** Who is looking: the session's visitor id, and whether the session signed in as an admin. */
export interface Viewer {
  visitorId: string
  admin: boolean
}

/**
 * The viewer's standing in a room, as the pages see it: `owner` (rooms.owner_id is their
 * visitor id, which is also their socket user id), `admin` (signed in at /admin; manages every
 * room's settings), else `member`. Rooms without an owner (seeded, or made before owners
 * existed) are managed by admins only.
 */
export type RoomRole = Exclude<Role, 'moderator'>

export function roomRole (viewer: Viewer, room: OwnedRoom): RoomRole {
  if (room.ownerId !== null && room.ownerId === viewer.visitorId) return 'owner'
  return viewer.admin ? 'admin' : 'member'
}

/** Whether the viewer may open the edit form, save settings, reset the world and delete the room. */
export function canManage (viewer: Viewer, room: OwnedRoom): boolean {
  return isInCharge(roomRole(viewer, room))
}

/** Throws XR_ERR_ROOM_FORBIDDEN (403) unless the viewer may manage the room. */
export function assertCanManage (viewer: Viewer, room: OwnedRoom): void {
  if (!canManage(viewer, room)) throw new Errors.RoomForbidden(room.id)
}

/** The request's viewer, from its session. */
export function viewerOf (request: FastifyRequest): Viewer {
  return { visitorId: request.visitor.id, admin: request.session.get('admin') === true }
}
