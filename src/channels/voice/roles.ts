import type { PrismaClient } from '../../generated/prisma/client.ts'

export type Role = 'owner' | 'moderator' | 'member'

/** Who may do what to whom: an owner outranks moderators, who outrank members. */
export const RANK: Readonly<Record<Role, number>> = { owner: 2, moderator: 1, member: 0 }

/**
 * What voice needs to know of a room's people, injected so that the room's trust rules
 * (owners, moderators, mutes) can live in their own module.
 */
export interface VoicePolicy {
  /** The user's role in the room. */
  roleOf: (roomId: string, userId: string) => Promise<Role>
  /** True while a moderator has muted the user's voice in the room. */
  voiceMuted: (roomId: string, userId: string) => Promise<boolean>
  setVoiceMuted: (roomId: string, userId: string, muted: boolean) => Promise<void>
}

/**
 * The policy read from the schema: the owner is rooms.owner_id, moderators and voice mutes
 * are rows of room_members.
 */
export class DatabaseVoicePolicy implements VoicePolicy {
  constructor (private readonly prisma: PrismaClient) {}

  async roleOf (roomId: string, userId: string): Promise<Role> {
    const [room, member] = await Promise.all([
      this.prisma.room.findUnique({ where: { id: roomId }, select: { ownerId: true } }),
      this.prisma.roomMember.findUnique({ where: { roomId_userId: { roomId, userId } }, select: { role: true } })
    ])
    if (room?.ownerId === userId) return 'owner'
    return member?.role === 'moderator' ? 'moderator' : 'member'
  }

  async voiceMuted (roomId: string, userId: string): Promise<boolean> {
    const member = await this.prisma.roomMember.findUnique({ where: { roomId_userId: { roomId, userId } }, select: { voiceMuted: true } })
    return member?.voiceMuted ?? false
  }

  async setVoiceMuted (roomId: string, userId: string, muted: boolean): Promise<void> {
    await this.prisma.roomMember.upsert({
      where: { roomId_userId: { roomId, userId } },
      create: { roomId, userId, voiceMuted: muted },
      update: { voiceMuted: muted }
    })
  }
}
