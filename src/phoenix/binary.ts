import type { ReplyTarget } from './errors.ts'

/** Why binary frames are refused: this server speaks only the JSON form of the v2 serializer. */
export const BINARY_REFUSED = 'binary payloads are not supported: send JSON'

const PUSH = 0
const HEADER_BYTES = 5

/**
 * Where to answer a binary frame of the v2 serializer, which the phoenix client sends for an
 * ArrayBuffer payload: `kind, join_ref size, ref size, topic size, event size`, then those
 * strings. Null unless it is a well-formed push naming a ref and a topic.
 */
export function binaryReplyTarget (frame: Buffer): ReplyTarget | null {
  if (frame.length < HEADER_BYTES || frame[0] !== PUSH) return null
  const [joinRefSize, refSize, topicSize] = [frame[1]!, frame[2]!, frame[3]!]
  const eventSize = frame[4]!
  if (frame.length < HEADER_BYTES + joinRefSize + refSize + topicSize + eventSize) return null
  let at = HEADER_BYTES
  const take = (size: number): string => frame.toString('utf8', at, (at += size))
  const joinRef = take(joinRefSize)
  const ref = take(refSize)
  const topic = take(topicSize)
  if (ref === '' || topic === '') return null
  return { joinRef: joinRef === '' ? null : joinRef, ref, topic }
}
