import type { PrismaClient } from '../../generated/prisma/client.ts'

/**
 * The voice mutes of a room's people, injected so that voice needs no database of its own. Who
 * may mute whom is the room's rule (shared/roles.ts), which the caller of Voice.moderate applies.
 */
export interface VoicePolicy {
  /** True while a moderator has muted the user's voice in the room. */
  voiceMuted: (roomId: string, userId: string) => Promise<boolean>
  setVoiceMuted: (roomId: string, userId: string, muted: boolean) => Promise<void>
}

/** The voice mutes as stored: room_members.voice_muted. */
export class DatabaseVoicePolicy implements VoicePolicy {
  constructor (private readonly prisma: PrismaClient) {}

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
