/**
 * The two raw `ws` baselines. Users send the very frame they send xr-rooms.
 * - ws-relay forwards each move as is to every peer at once: every frame carries one tagged pose.
 * - ws-floor ignores moves and sends every member one prepared diff of a room's size every 50 ms,
 *   stamped with the server's send time: the latency there is the delivery delay alone.
 */
import WebSocket from 'ws'
import { tagOf, type MovePose } from '../../lib/pose.ts'
import { within, type ConnectOptions, type TargetAdapter, type TargetAddress, type TargetClient } from '../target.ts'

const CONNECT_TIMEOUT_MS = 30_000

export function rawAdapter (address: TargetAddress): TargetAdapter {
  const floor = address.name === 'ws-floor'
  return {
    name: address.name,

    async connect ({ index, roomId, tracker, observe }: ConnectOptions): Promise<TargetClient> {
      const topic = `room:${roomId}`
      const ws = new WebSocket(`ws://127.0.0.1:${address.port}/?room=${encodeURIComponent(roomId)}`, { perMessageDeflate: false })
      ws.on('message', !observe
        ? (data: Buffer) => tracker.frame(data.length, true)
        : floor
        ? (data: Buffer) => {
            const frame = JSON.parse(data.toString()) as [unknown, unknown, string, string, { t: number }]
            tracker.frame(data.length, true)
            tracker.stamped(frame[4].t, performance.timeOrigin + performance.now())
          }
        : (data: Buffer) => {
            const frame = JSON.parse(data.toString()) as [unknown, unknown, string, string, { pose?: { left?: unknown } }]
            tracker.frame(data.length, true)
            const tag = tagOf(frame[4].pose?.left)
            if (tag) tracker.seen(index, tag.sender, tag.seq, performance.now())
          })
      await within(new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve())
        ws.once('error', reject)
      }), CONNECT_TIMEOUT_MS, `user ${index} connecting to ${address.name}`)
      ws.on('error', () => {})
      let ref = 1
      return {
        move (pose: MovePose) {
          if (ws.readyState !== WebSocket.OPEN) return
          ws.send(`["1","${++ref}","${topic}","i_moved",${JSON.stringify({ pose })}]`)
        },
        heartbeat () {},
        close () { ws.terminate() }
      }
    }
  }
}
