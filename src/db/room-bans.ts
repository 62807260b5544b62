import type { PrismaClient } from '../generated/prisma/client.ts'

export interface BanRecord {
  bannedBy: string
  until: Date
}

/** room_bans: who may not rejoin a room before when. One row per person and room; a new kick replaces it. */
export class RoomBans {
  constructor (private readonly prisma: PrismaClient) {}

  async ban (roomId: string, userId: string, ban: BanRecord): Promise<void> {
    await this.prisma.roomBan.upsert({
      where: { roomId_userId: { roomId, userId } },
      create: { roomId, userId, ...ban },
      update: ban
    })
  }

  /** The user's ban in the room if it still runs at `now`. */
  async active (roomId: string, userId: string, now: Date): Promise<BanRecord | null> {
    const row = await this.prisma.roomBan.findFirst({ where: { roomId, userId, until: { gt: now } } })
    return row && { bannedBy: row.bannedBy, until: row.until }
  }
}
