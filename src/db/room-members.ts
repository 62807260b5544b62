import type { PrismaClient } from '../generated/prisma/client.ts'

/** A stored role; the owner is rooms.owner_id, never a row. */
export type MemberRole = 'member' | 'moderator'

/** What is stored of one person in one room beyond a plain member. */
export interface MemberRecord {
  role: MemberRole
  chatMuted: boolean
  voiceMuted: boolean
}

export const PLAIN_MEMBER: MemberRecord = Object.freeze({ role: 'member', chatMuted: false, voiceMuted: false })

type Row = { userId: string, role: string, chatMuted: boolean, voiceMuted: boolean }

const toRecord = (row: Row): MemberRecord =>
  ({ role: row.role === 'moderator' ? 'moderator' : 'member', chatMuted: row.chatMuted, voiceMuted: row.voiceMuted })

/** room_members: moderators and muted people of each room. */
export class RoomMembers {
  constructor (private readonly prisma: PrismaClient) {}

  /** Everyone of the room with a row, by user id. */
  async list (roomId: string): Promise<Map<string, MemberRecord>> {
    const rows = await this.prisma.roomMember.findMany({ where: { roomId } })
    return new Map(rows.map((row) => [row.userId, toRecord(row)]))
  }

  /** Changes some of a person's fields (creating their row); returns the whole record. */
  async set (roomId: string, userId: string, change: Partial<MemberRecord>): Promise<MemberRecord> {
    const row = await this.prisma.roomMember.upsert({
      where: { roomId_userId: { roomId, userId } },
      create: { roomId, userId, ...change },
      update: change
    })
    return toRecord(row)
  }
}
