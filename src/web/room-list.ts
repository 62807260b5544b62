import type { FastifyInstance } from 'fastify'
import { SEARCH_MAX, type Room } from '../db/rooms.ts'
import type { RoomOccupancy } from './directory-stream.ts'
import type { RoomSummary } from './room-directory.ts'

export const PAGE_SIZE = 24
const PAGE_MAX = 100_000

/** Which part of the room list a request asks for: `?page=` (from 1) and `?q=` (name search). */
export interface ListQuery {
  page: number
  q: string
}

export interface RoomListing {
  rooms: RoomOccupancy[]
  /** Each listed room's owner, for deciding what the viewer may do (never sent to clients). */
  owners: Map<string, string | null>
  page: number
  pages: number
  total: number
  q: string
}

/** Query parameters are untrusted: a page that is not a plain number is page 1; a search is trimmed and cut. */
export function parseListQuery (query: unknown): ListQuery {
  const params = typeof query === 'object' && query !== null ? query as Record<string, unknown> : {}
  const pageText = typeof params.page === 'string' ? params.page : ''
  const page = /^\d{1,6}$/.test(pageText) ? Math.min(Math.max(Number(pageText), 1), PAGE_MAX) : 1
  const q = typeof params.q === 'string' ? params.q.trim().slice(0, SEARCH_MAX) : ''
  return { page, q }
}

export function roomSummary (room: Room): RoomSummary {
  return {
    id: room.id,
    name: room.name,
    description: room.description,
    persistent: room.persistent,
    visibility: room.visibility === 'unlisted' ? 'unlisted' : 'public',
    capacity: room.capacity,
    locked: room.locked,
    allow_grab: room.allowGrab,
    allow_chat: room.allowChat
  }
}

/**
 * One page of the public room list: rooms with people in them first (most people first, from
 * the live directory), then the others, newest first; `q` keeps only names containing it.
 */
export async function roomListing ({ rooms, roomDirectory }: FastifyInstance, { page, q }: ListQuery): Promise<RoomListing> {
  const found = await rooms.listPublicRooms({
    query: q,
    first: roomDirectory.occupiedRoomIds(),
    offset: (page - 1) * PAGE_SIZE,
    limit: PAGE_SIZE
  })
  return {
    rooms: found.rooms.map((room) => ({ ...roomSummary(room), occupancy: roomDirectory.occupancy(room.id) })),
    owners: new Map(found.rooms.map((room) => [room.id, room.ownerId])),
    page,
    pages: Math.max(1, Math.ceil(found.total / PAGE_SIZE)),
    total: found.total,
    q
  }
}
