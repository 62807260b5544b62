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

  /** The bans of the room still running at `now`: user id → until when. */
  async activeIn (roomId: string, now: Date): Promise<Map<string, Date>> {
    const rows = await this.prisma.roomBan.findMany({ where: { roomId, until: { gt: now } }, select: { userId: true, until: true } })
    return new Map(rows.map((row) => [row.userId, row.until]))
  }
}
