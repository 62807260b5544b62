import { randomBytes } from 'node:crypto'
import type { PrismaClient, Room } from '../generated/prisma/client.ts'
import { Errors, ValidationError } from '../errors.ts'
import { randomRoomContent, type Random } from './room-content.ts'
import { VISIBILITIES, type RoomAttrs, type RoomInput, type Visibility } from './types.ts'
import { EYE_HEIGHT, type Components, type EntitiesDiff, type EntityMap } from '../shared/world.ts'

type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0]
type Db = PrismaClient | Tx

export type { Room }

const INITIAL_SNAPSHOT = { kind: 'snapshot', slug: 'initial_snapshot' } as const
const DEFAULT_HEAD_POSITION: [number, number, number] = [0, EYE_HEIGHT, 0]
const NAME_MAX = 80
const DESCRIPTION_MAX = 1000
export const CAPACITY_MAX = 100
const BOOLEAN_SETTINGS = ['persistent', 'locked', 'allowGrab', 'allowChat'] as const
/** Longest room list search; longer queries are cut to this. */
export const SEARCH_MAX = 80

/** One page of the room list, and how many rooms match in all. */
export interface RoomPage {
  rooms: Room[]
  total: number
}

export interface ListOptions {
  /** Case-insensitive substring of the name. */
  query?: string
  /** Rooms shown first, in this order (the occupied ones, most people first). */
  first?: readonly string[]
  offset: number
  limit: number
}

function parseCapacity (value: unknown): number | null {
  const n = typeof value === 'string' && /^\s*\d{1,4}\s*$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= CAPACITY_MAX ? n : null
}

// LIKE treats % and _ as wildcards: a search for "50%" means those characters.
const likeEscaped = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`)

/** 8 url-safe characters: short enough to share, 48 random bits. */
export const newRoomId = (): string => randomBytes(6).toString('base64url')

/** Checks room form input; every problem is reported at once, per field. */
export function validateRoomInput (input: RoomInput, partial = false): Partial<RoomAttrs> {
  const errors: Record<string, string> = {}
  const attrs: Partial<RoomAttrs> = {}
  if (input.name !== undefined || !partial) {
    const name = typeof input.name === 'string' ? input.name.trim() : ''
    if (name.length === 0) errors.name = "can't be blank"
    else if (name.length > NAME_MAX) errors.name = `should be at most ${NAME_MAX} characters`
    else attrs.name = name
  }
  if (input.description !== undefined) {
    if (typeof input.description !== 'string') errors.description = 'must be text'
    else if (input.description.length > DESCRIPTION_MAX) errors.description = `should be at most ${DESCRIPTION_MAX} characters`
    else attrs.description = input.description.trim()
  }
  for (const setting of BOOLEAN_SETTINGS) {
    const value = input[setting]
    if (value === undefined) continue
    if (typeof value !== 'boolean') errors[setting] = 'must be true or false'
    else attrs[setting] = value
  }
  if (input.capacity !== undefined) {
    const capacity = parseCapacity(input.capacity)
    if (capacity === null) errors.capacity = `must be a whole number from 1 to ${CAPACITY_MAX}`
    else attrs.capacity = capacity
  }
  if (input.visibility !== undefined) {
    if (!VISIBILITIES.includes(input.visibility as Visibility)) errors.visibility = 'must be public or unlisted'
    else attrs.visibility = input.visibility as Visibility
  }
  if (Object.keys(errors).length > 0) throw new ValidationError(errors)
  return attrs
}

/**
 * The rooms data module: rooms and their entity-component worlds.
 * An entity id is scoped to its room; a component row is soft-deleted rather than
 * removed, so a user who comes back can resume their last pose.
 */
export class Rooms {
  constructor (
    private readonly prisma: PrismaClient,
    private readonly random: Random = Math.random
  ) {}

  listRooms (): Promise<Room[]> {
    return this.prisma.room.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })
  }

  /**
   * A page of the public rooms whose name contains `query`: the rooms of `first` that match,
   * in that order, then the others, newest first (index rooms_public_listing_idx).
   */
  async listPublicRooms ({ query = '', first = [], offset, limit }: ListOptions): Promise<RoomPage> {
    const where = {
      visibility: 'public',
      ...(query === '' ? {} : { name: { contains: likeEscaped(query.slice(0, SEARCH_MAX)), mode: 'insensitive' as const } })
    }
    const ahead = first.length === 0 ? [] : await this.prisma.room.findMany({ where: { ...where, id: { in: [...first] } } })
    const rank = new Map(first.map((id, i) => [id, i]))
    ahead.sort((a, b) => rank.get(a.id)! - rank.get(b.id)!)
    const rest = { ...where, ...(ahead.length === 0 ? {} : { id: { notIn: ahead.map((room) => room.id) } }) }
    const shownAhead = ahead.slice(offset, offset + limit)
    const [others, otherCount] = await Promise.all([
      shownAhead.length === limit
        ? []
        : this.prisma.room.findMany({
          where: rest,
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          skip: Math.max(0, offset - ahead.length),
          take: limit - shownAhead.length
        }),
      this.prisma.room.count({ where: rest })
    ])
    return { rooms: [...shownAhead, ...others], total: ahead.length + otherCount }
  }

  /** Ids of every unlisted room, for keeping them off the live room list. */
  async unlistedRoomIds (): Promise<string[]> {
    const rows = await this.prisma.room.findMany({ where: { visibility: 'unlisted' }, select: { id: true } })
    return rows.map((row) => row.id)
  }

  /** Stores the SHA-256 of the room's manage link token (hex), replacing any earlier one. */
  async setManageTokenHash (id: string, hash: string): Promise<void> {
    const { count } = await this.prisma.room.updateMany({ where: { id }, data: { manageTokenHash: hash } })
    if (count === 0) throw new Errors.RoomNotFound(id)
  }

  getRoom (id: string): Promise<Room | null> {
    return this.prisma.room.findUnique({ where: { id } })
  }

  async getRoomOrThrow (id: string): Promise<Room> {
    const room = await this.getRoom(id)
    if (!room) throw new Errors.RoomNotFound(id)
    return room
  }

  /**
   * Creates a room with a random world and saves that world as its initial snapshot. `ownerId`
   * is the creating visitor's id; null (seeded rooms) leaves the room to admins.
   */
  async createRoom (input: RoomInput, content: EntityMap = randomRoomContent(this.random), ownerId: string | null = null): Promise<Room> {
    const attrs = validateRoomInput(input)
    return await this.prisma.$transaction(async (tx) => {
      const room = await tx.room.create({ data: { id: newRoomId(), ...attrs as Pick<RoomAttrs, 'name'>, ownerId } })
      await applyDiff(tx, room.id, { creates: content })
      await this.saveSnapshot(tx, room.id, content)
      return room
    })
  }

  async updateRoom (id: string, input: RoomInput): Promise<Room> {
    const attrs = validateRoomInput(input, true)
    await this.getRoomOrThrow(id)
    return await this.prisma.room.update({ where: { id }, data: attrs })
  }

  /** Deletes the room and, by cascade, its world, snapshot and chat. */
  async deleteRoom (id: string): Promise<void> {
    const { count } = await this.prisma.room.deleteMany({ where: { id } })
    if (count === 0) throw new Errors.RoomNotFound(id)
  }

  /**
   * The live world: soft-deleted entities are left out. Built as one JSON text by the database
   * and parsed once: a room's first join waits for it, and a row per component through Prisma
   * took 8 times as long for 100 entities (9 against 1.1 ms on PGlite) and 6 times for 10,000.
   */
  async entities (roomId: string): Promise<EntityMap> {
    const [row] = await this.prisma.$queryRaw<Array<{ world: string }>>`
      SELECT coalesce(json_object_agg(entity_id, components ORDER BY entity_id), '{}')::text AS world
      FROM (
        SELECT entity_id, json_object_agg(component_name, value ORDER BY component_name) AS components
        FROM components WHERE room_id = ${roomId} AND deleted_at IS NULL
        GROUP BY entity_id
      ) AS live`
    // JSON.parse makes every key an own property, "__proto__" included.
    return JSON.parse(row!.world) as EntityMap
  }

  /**
   * One entity's components, or null. With includeDeleted, a soft-deleted entity's
   * last components are returned too (a returning user's last pose).
   */
  async getEntityState (roomId: string, entityId: string, { includeDeleted = false } = {}): Promise<Components | null> {
    const rows = await this.prisma.component.findMany({
      where: { roomId, entityId, ...(includeDeleted ? {} : { deletedAt: null }) },
      select: { componentName: true, value: true }
    })
    if (rows.length === 0) return null
    return Object.fromEntries(rows.map((row) => [row.componentName, row.value]))
  }

  /**
   * Applies one diff atomically: either all of it is stored or none of it, in one statement. With
   * a `leaseToken` (several processes: see src/runtime/room-leases.ts) the write is refused with
   * XR_ERR_ROOM_LEASE_LOST unless that is still the room's newest token; the room row stays
   * locked until commit, so a newer owner's claimRoom waits for a write in progress.
   */
  async updateEntities (roomId: string, diff: EntitiesDiff, fence?: { leaseToken: number }): Promise<void> {
    if (!fence) {
      await applyDiff(this.prisma, roomId, diff)
      return
    }
    await this.prisma.$transaction(async (tx) => {
      const held = await tx.$queryRaw<unknown[]>`
        SELECT 1 FROM rooms WHERE id = ${roomId} AND lease_token = ${fence.leaseToken} FOR SHARE`
      if (held.length === 0) throw new Errors.RoomLeaseLost(roomId)
      await applyDiff(tx, roomId, diff)
    })
  }

  /**
   * Records that the holder of lease `token` runs the room from now on, so writes with an older
   * token are refused. Returns the room's token afterwards: `token` when claimed, a newer one
   * when a later owner claimed it already. Rejects with XR_ERR_ROOM_NOT_FOUND.
   */
  async claimRoom (roomId: string, token: number): Promise<number> {
    const claimed = await this.prisma.$queryRaw<Array<{ lease_token: number }>>`
      UPDATE rooms SET lease_token = ${token} WHERE id = ${roomId} AND lease_token <= ${token} RETURNING lease_token`
    if (claimed.length > 0) return token
    const room = await this.prisma.room.findUnique({ where: { id: roomId }, select: { leaseToken: true } })
    if (!room) throw new Errors.RoomNotFound(roomId)
    return room.leaseToken
  }

  /** Ids of live entities having the component (and, when given, that exact value). */
  async findEntitiesHavingComponent (roomId: string, componentName: string, value?: unknown): Promise<string[]> {
    const rows = value === undefined
      ? await this.prisma.$queryRaw<Array<{ entity_id: string }>>`
          SELECT entity_id FROM components
          WHERE room_id = ${roomId} AND component_name = ${componentName} AND deleted_at IS NULL
          ORDER BY entity_id`
      : await this.prisma.$queryRaw<Array<{ entity_id: string }>>`
          SELECT entity_id FROM components
          WHERE room_id = ${roomId} AND component_name = ${componentName} AND deleted_at IS NULL
            AND value = ${JSON.stringify(value)}::jsonb
          ORDER BY entity_id`
    return rows.map((row) => row.entity_id)
  }

  /** Soft-deletes every live entity having the component; returns their ids. */
  async softDeleteEntitiesHavingComponent (roomId: string, componentName: string): Promise<string[]> {
    const ids = await this.findEntitiesHavingComponent(roomId, componentName)
    if (ids.length > 0) await applyDiff(this.prisma, roomId, { deletes: Object.fromEntries(ids.map((id) => [id, true])) })
    return ids
  }

  /**
   * Where a newcomer's head goes: above the room's spawn point, jittered by up to 1 m
   * on x and z so people joining together do not stand inside each other.
   */
  async headPositionNearSpawnPoint (roomId: string): Promise<[number, number, number]> {
    const [spawnId] = await this.findEntitiesHavingComponent(roomId, 'spawn_point', true)
    const spawn = spawnId ? await this.getEntityState(roomId, spawnId) : null
    return this.headAbove(spawn?.position)
  }

  /** Where a newcomer's head goes above a spawn point at `position` (the origin when it is not a position). */
  headAbove (position: unknown): [number, number, number] {
    if (!isVec3(position)) return [...DEFAULT_HEAD_POSITION]
    const jitter = (): number => this.random() * 2 - 1
    return [position[0] + jitter(), position[1] + EYE_HEIGHT, position[2] + jitter()]
  }

  async initialSnapshot (roomId: string): Promise<EntityMap | null> {
    const snippet = await this.prisma.snippet.findUnique({
      where: { roomId_kind_slug: { roomId, ...INITIAL_SNAPSHOT } }
    })
    return (snippet?.data as EntityMap | undefined) ?? null
  }

  /**
   * Puts the world back to its initial snapshot in one transaction. Every live entity not in
   * the snapshot is soft-deleted (avatars keep their stored pose for returning users).
   * Returns the diff that turns the old world into the new one, for live clients.
   */
  async replaceEntitiesWithInitialSnapshot (roomId: string): Promise<EntitiesDiff> {
    return await this.prisma.$transaction(async (tx) => {
      const snapshot = await new Rooms(tx as PrismaClient, this.random).initialSnapshot(roomId)
      if (!snapshot) throw new Errors.RoomNotFound(roomId)
      const current = await new Rooms(tx as PrismaClient, this.random).entities(roomId)
      const deletes: Record<string, true> = {}
      for (const id of Object.keys(current)) if (!(id in snapshot)) deletes[id] = true
      await applyDiff(tx, roomId, { creates: snapshot, deletes })
      return { creates: snapshot, updates: {}, deletes }
    })
  }

  private async saveSnapshot (db: Db, roomId: string, world: EntityMap): Promise<void> {
    await db.snippet.upsert({
      where: { roomId_kind_slug: { roomId, ...INITIAL_SNAPSHOT } },
      create: { roomId, ...INITIAL_SNAPSHOT, data: world as object },
      update: { data: world as object }
    })
  }
}

/**
 * Writes a diff (or part of one) with the database's apply_entities_diff (its migration says how
 * each part is applied): one statement, so one round trip and atomic without a transaction.
 */
async function applyDiff (db: Db, roomId: string, diff: Partial<EntitiesDiff>): Promise<void> {
  const { creates = {}, updates = {}, deletes = {} } = diff
  await db.$queryRaw`
    SELECT apply_entities_diff(${roomId}, ${JSON.stringify(creates)}::jsonb, ${JSON.stringify(updates)}::jsonb, ${JSON.stringify(deletes)}::jsonb)`
}

function isVec3 (value: unknown): value is [number, number, number] {
  return Array.isArray(value) && value.length === 3 && value.every((n) => typeof n === 'number' && Number.isFinite(n))
}
