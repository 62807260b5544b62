import { ProtocolError, type ReplyTarget } from './errors.ts'
import { Events, type Message, type Reply } from './message.ts'

/** The serializer version (`vsn` query parameter) this module speaks. */
export const VSN = '2.0.0'

type Ref = string | null

function isRef (value: unknown): value is Ref {
  return value === null || typeof value === 'string'
}

function isPlainObject (value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// A broken frame can still be answered if it names a topic and a ref the client waits on.
function replyTarget (frame: unknown[]): ReplyTarget | null {
  const [joinRef, ref, topic] = frame
  if (typeof ref !== 'string' || typeof topic !== 'string') return null
  return { joinRef: typeof joinRef === 'string' ? joinRef : null, ref, topic }
}

/**
 * Parses one text frame `[join_ref, ref, topic, event, payload]`.
 * Throws ProtocolError for invalid JSON, a wrong shape, or a payload that is not a JSON object.
 */
export function decode (raw: string): Message {
  let frame: unknown
  try {
    frame = JSON.parse(raw)
  } catch (cause) {
    throw new ProtocolError('frame is not valid JSON', null, { cause })
  }
  if (!Array.isArray(frame) || frame.length !== 5) {
    throw new ProtocolError('frame must be an array [join_ref, ref, topic, event, payload]')
  }
  const [joinRef, ref, topic, event, payload] = frame
  function fail (reason: string): never { throw new ProtocolError(reason, replyTarget(frame as unknown[])) }
  if (!isRef(joinRef)) fail('join_ref must be a string or null')
  if (!isRef(ref)) fail('ref must be a string or null')
  if (typeof topic !== 'string' || topic === '') fail('topic must be a non-empty string')
  if (typeof event !== 'string' || event === '') fail('event must be a non-empty string')
  if (!isPlainObject(payload)) fail('payload must be a JSON object')
  return { joinRef, ref, topic, event, payload }
}

/** Encodes any message; the payload must be JSON-serializable. */
export function encode (message: Message): string {
  return JSON.stringify([message.joinRef, message.ref, message.topic, message.event, message.payload])
}

/** Encodes a reply as Phoenix does: event phx_reply, payload `{status, response}`. */
export function encodeReply (reply: Reply): string {
  return encode({
    joinRef: reply.joinRef,
    ref: reply.ref,
    topic: reply.topic,
    event: Events.reply,
    payload: { status: reply.status, response: reply.response }
  })
}

/**
 * Encodes a broadcast once, so the same string can be sent to every subscriber of the topic
 * (Phoenix's "fastlane"). Broadcasts carry no join_ref and no ref, which the client accepts on
 * whichever join of the topic is current.
 */
export function encodeBroadcast (topic: string, event: string, payload: object): string {
  return encode({ joinRef: null, ref: null, topic, event, payload })
}
