/** PubSub topic names, one place so publishers and subscribers cannot drift apart. */
export const topics = {
  /** What sockets subscribe to: `{ event, payload }` pushes such as `entities_diff`. */
  room: (roomId: string) => `room:${roomId}`,
  /** Room events (`{ event, payload }`), what happens in the room; the room server consumes them. */
  roomStream: (roomId: string) => `room_stream:${roomId}`,
  /** What is for one user's connections to a room only: voice signals and moderation (src/channels/voice). */
  voiceUser: (roomId: string, userId: string) => `voice_user:${roomId}:${userId}`
} as const
