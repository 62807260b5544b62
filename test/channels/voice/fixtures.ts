import { Member, type PresenceEntry } from '../fixtures/room-server.ts'

type Meta = PresenceEntry['metas'][number] & { voice?: boolean, muted?: boolean, voice_session?: string }

const VOICE_PUSHES = ['voice_signal', 'voice_ended', 'voice_moderated']

/** Records the voice pushes of a member as its other pushes (Member.pushes, `change`). */
export function hearVoice<M extends Member> (member: M): M {
  for (const event of VOICE_PUSHES) {
    member.channel.on(event, (payload) => {
      member.pushes.push({ event, payload })
      member.emit('change')
    })
  }
  return member
}

/** The metas of `userId` as `member` sees them in presence. */
export const metasOf = (member: Member, userId: string): Meta[] => (member.people.find((p) => p.id === userId)?.metas ?? []) as Meta[]

/** Waits until `member` sees `userId` with a meta matching voice and muted. */
export async function untilVoice (member: Member, userId: string, want: { voice: boolean, muted?: boolean }): Promise<Meta[]> {
  return await member.until(`${userId} voice=${want.voice} muted=${want.muted ?? 'any'} at a member`, () => {
    const metas = metasOf(member, userId)
    const match = metas.some((m) => (m.voice === true) === want.voice && (want.muted === undefined || (m.muted === true) === want.muted))
    return match && metas
  })
}

export const offer = (to: string, sdp = 'v=0\r\n') => ({ to, kind: 'offer', data: { type: 'offer', sdp } })
