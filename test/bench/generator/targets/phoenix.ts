/**
 * xr-rooms over its Phoenix Channels v2 JSON protocol, with raw `ws` (no phoenix.js) to keep
 * the client's cost low: join, `i_moved`, and the tags of every pose in `entities_diff`.
 */
import WebSocket from 'ws'
import { signUserToken } from '../../../../src/phoenix/token.ts'
import { tagOf, type MovePose } from '../../lib/pose.ts'
import { forwardedFor, within, type ConnectOptions, type TargetAdapter, type TargetAddress, type TargetClient } from '../target.ts'
import type { Tracker } from '../tracker.ts'

type Frame = [string | null, string | null, string, string, Record<string, unknown>]

const JOIN_TIMEOUT_MS = 60_000
const ENTITIES_DIFF = Buffer.from('"entities_diff"')

function open (address: TargetAddress, index: number): WebSocket {
  if (!address.secret) throw new Error('xr-rooms needs the secret to sign user tokens')
  const userId = `u${index}`
  const token = signUserToken(address.secret, userId, { username: userId })
  return new WebSocket(`ws://127.0.0.1:${address.port}/socket/websocket?vsn=2.0.0&_user_token=${token}`, {
    perMessageDeflate: false,
    headers: { 'x-forwarded-for': forwardedFor(index) }
  })
}

function readPoses (tracker: Tracker, index: number, entities: unknown, now: number): void {
  if (typeof entities !== 'object' || entities === null) return
  for (const id in entities) {
    const components = (entities as Record<string, { left?: unknown } | null>)[id]
    const tag = tagOf(components?.left)
    if (tag) tracker.seen(index, tag.sender, tag.seq, now)
  }
}

/** Sends phx_join and resolves with the time from then until entities_state arrived. */
function join (ws: WebSocket, topic: string, onFrame: (frame: Frame, bytes: number) => void): Promise<{ ms: number, bytes: number, entities: number }> {
  return new Promise((resolve, reject) => {
    let sentAt = 0
    let replied = false
    ws.on('open', () => {
      sentAt = performance.now()
      ws.send(JSON.stringify(['1', '1', topic, 'phx_join', {}]))
    })
    ws.on('error', reject)
    ws.on('close', (code) => reject(new Error(`closed with ${code} while joining ${topic}`)))
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as Frame
      const event = frame[3]
      if (event === 'phx_reply' && frame[1] === '1' && !replied) {
        replied = true
        const payload = frame[4] as { status?: string, response?: unknown }
        if (payload.status !== 'ok') reject(new Error(`join ${topic} refused: ${JSON.stringify(payload.response)}`))
      } else if (event === 'entities_state') {
        resolve({ ms: performance.now() - sentAt, bytes: data.length, entities: Object.keys(frame[4]).length })
      }
      onFrame(frame, data.length)
    })
  })
}

export function phoenixAdapter (address: TargetAddress): TargetAdapter {
  return {
    name: 'xr-rooms',

    async connect ({ index, roomId, tracker, observe }: ConnectOptions): Promise<TargetClient> {
      const topic = `room:${roomId}`
      const ws = open(address, index)
      let ref = 1
      await within(join(ws, topic, () => {}), JOIN_TIMEOUT_MS, `user ${index} joining ${topic}`)
      ws.removeAllListeners('message')
      ws.removeAllListeners('close')
      ws.removeAllListeners('error')
      ws.on('error', () => {})
      ws.on('message', observe
        ? (data: Buffer) => {
            const frame = JSON.parse(data.toString()) as Frame
            const diff = frame[3] === 'entities_diff'
            tracker.frame(data.length, diff)
            if (!diff) return
            const now = performance.now()
            const payload = frame[4] as { creates?: unknown, updates?: unknown }
            readPoses(tracker, index, payload.updates, now)
            readPoses(tracker, index, payload.creates, now)
          }
        // The event name comes early in the frame: a short search, no parse.
        : (data: Buffer) => {
            const at = data.indexOf(ENTITIES_DIFF)
            tracker.frame(data.length, at >= 0 && at < 64 + topic.length)
          })
      return {
        move (pose: MovePose) {
          if (ws.readyState !== WebSocket.OPEN) return
          ws.send(`["1","${++ref}","${topic}","i_moved",${JSON.stringify({ pose })}]`)
        },
        heartbeat () {
          if (ws.readyState === WebSocket.OPEN) ws.send(`[null,"${++ref}","phoenix","heartbeat",{}]`)
        },
        close () { ws.terminate() }
      }
    },

    async timeJoin (roomId: string, index: number) {
      const ws = open(address, index)
      try {
        return await within(join(ws, `room:${roomId}`, () => {}), JOIN_TIMEOUT_MS, `timed join of room:${roomId}`)
      } finally {
        ws.close()
      }
    }
  }
}
