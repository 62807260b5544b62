import { Rooms } from '../../src/db/rooms.ts'
import type { Components } from '../../src/shared/world.ts'
import type { PrismaClient } from '../../src/generated/prisma/client.ts'

// Test set-up through the production write path (one diff), on a Rooms of its own so that a
// test's controlled store does not count these writes as the runtime's.

/** Creates (or revives) an entity with exactly `components`. */
export async function createEntity (prisma: PrismaClient, roomId: string, entityId: string, components: Components): Promise<void> {
  await new Rooms(prisma).updateEntities(roomId, { creates: { [entityId]: components }, updates: {}, deletes: {} })
}

/** Soft-deletes an entity: hidden from the world, its last components kept for a returning user. */
export async function softDeleteEntity (prisma: PrismaClient, roomId: string, entityId: string): Promise<void> {
  await new Rooms(prisma).updateEntities(roomId, { creates: {}, updates: {}, deletes: { [entityId]: true } })
}
