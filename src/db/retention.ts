import type { PrismaClient } from '../generated/prisma/client.ts'

/** What one retention pass removed. */
export interface RetentionReport {
  /** Component rows of avatars whose user left before the cutoff. */
  avatarRows: number
  /** Chat messages beyond each room's newest `chatHistoryLimit`. */
  chatMessages: number
}

/**
 * Keeps storage bounded. A user's avatar stays (soft-deleted) after they leave so that they
 * come back where they were; once they have been gone longer than a socket token lives, they
 * cannot come back as that user, and the rows go. Chat keeps each room's newest messages.
 */
export class Retention {
  constructor (private readonly prisma: PrismaClient) {}

  /** Deletes every component of avatar entities soft-deleted before `cutoff`; returns the rows removed. */
  async purgeDepartedAvatars (cutoff: Date): Promise<number> {
    return await this.prisma.$executeRaw`
      DELETE FROM components c
      USING components a
      WHERE a.component_name = 'avatar' AND a.deleted_at < ${cutoff}
        AND c.room_id = a.room_id AND c.entity_id = a.entity_id
        AND c.deleted_at IS NOT NULL AND c.deleted_at < ${cutoff}`
  }

  /** Deletes the messages of each room older than its newest `limit`; returns how many. */
  async capChatHistory (limit: number): Promise<number> {
    // Only rooms over the limit are touched: the newest `limit + 1`-th id of each is the cut.
    return await this.prisma.$executeRaw`
      DELETE FROM chat_messages m
      USING (
        SELECT room_id, (SELECT id FROM chat_messages k WHERE k.room_id = r.room_id ORDER BY id DESC OFFSET ${limit} LIMIT 1) AS cut
        FROM (SELECT room_id FROM chat_messages GROUP BY room_id HAVING count(*) > ${limit}) r
      ) over_limit
      WHERE m.room_id = over_limit.room_id AND m.id <= over_limit.cut`
  }
}
