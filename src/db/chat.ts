import type { PrismaClient } from '../generated/prisma/client.ts'
import type { ChatMessageRecord } from './types.ts'

export const CHAT_HISTORY_LIMIT = 50

type Row = { id: bigint, userId: string, username: string, content: string, insertedAt: Date }

const toRecord = (row: Row): ChatMessageRecord => ({
  id: Number(row.id),
  user_id: row.userId,
  username: row.username,
  content: row.content,
  inserted_at: row.insertedAt.toISOString()
})

/** A room's chat log. Ids only grow, so a client resumes by the last id it has seen. */
export class Chat {
  constructor (private readonly prisma: PrismaClient) {}

  async append (roomId: string, message: { userId: string, username: string, content: string }): Promise<ChatMessageRecord> {
    return toRecord(await this.prisma.chatMessage.create({ data: { roomId, ...message } }))
  }

  /** Marks a message of the room deleted; false when the room has no such message (or it was deleted before). */
  async delete (roomId: string, id: number, now = new Date()): Promise<boolean> {
    const { count } = await this.prisma.chatMessage.updateMany({ where: { roomId, id: BigInt(id), deletedAt: null }, data: { deletedAt: now } })
    return count > 0
  }

  /** Up to `limit` messages after lastSeenId (or the latest ones), oldest first; deleted ones are left out. */
  async messagesAfter (roomId: string, lastSeenId?: number, limit = CHAT_HISTORY_LIMIT): Promise<ChatMessageRecord[]> {
    const rows = await this.prisma.chatMessage.findMany({
      where: { roomId, deletedAt: null, ...(lastSeenId === undefined ? {} : { id: { gt: BigInt(lastSeenId) } }) },
      orderBy: { id: 'desc' },
      take: limit
    })
    return rows.reverse().map(toRecord)
  }
}
