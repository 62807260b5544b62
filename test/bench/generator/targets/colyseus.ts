/**
 * Colyseus 0.16 read with its own SDK (colyseus.js): joinById, `room.send('i_moved', {pose})`,
 * and after every state patch the tags of the players' poses in the decoded state.
 */
import { Client, type Room } from 'colyseus.js'
import type { MovePose } from '../../lib/pose.ts'
import { within, type ConnectOptions, type TargetAdapter, type TargetAddress, type TargetClient } from '../target.ts'

/** Colyseus protocol codes (colyseus.js Protocol): the first byte of each binary frame. */
const ROOM_STATE_PATCH = 15

const JOIN_TIMEOUT_MS = 60_000

interface PlayerView { left: { at: (i: number) => number | undefined } }
interface StateView {
  players: { forEach: (fn: (player: PlayerView, key: string) => void) => void, size: number }
  entities?: { size: number }
}

interface RawSocket { on: (event: 'message', fn: (data: ArrayBuffer | Buffer) => void) => void }

const socketOf = (room: Room): RawSocket => (room.connection.transport as unknown as { ws: RawSocket }).ws

export function colyseusAdapter (address: TargetAddress): TargetAdapter {
  const client = new Client(`ws://127.0.0.1:${address.port}`)
  return {
    name: 'colyseus',

    async connect ({ index, roomId, tracker, observe }: ConnectOptions): Promise<TargetClient> {
      const room = await within(client.joinById<StateView>(roomId, { index }), JOIN_TIMEOUT_MS, `user ${index} joining ${roomId}`)
      socketOf(room).on('message', (data) => {
        const bytes = new Uint8Array(data as ArrayBuffer)
        tracker.frame(bytes.byteLength, bytes[0] === ROOM_STATE_PATCH)
      })
      let ready: () => void = () => {}
      const first = new Promise<void>((resolve) => { ready = resolve })
      room.onStateChange((state) => {
        ready()
        if (!observe) return
        const now = performance.now()
        state.players.forEach((player) => {
          const seq = player.left.at(0)
          const sender = player.left.at(1)
          if (seq !== undefined && sender !== undefined && seq >= 0 && sender >= 0) tracker.seen(index, sender, seq, now)
        })
      })
      if (room.state?.players !== undefined) ready()
      await within(first, JOIN_TIMEOUT_MS, `first state of ${roomId}`)
      // Not observing: the SDK stops decoding patches (they still arrive and are counted).
      if (!observe) (room as unknown as { serializer: { patch: () => void } }).serializer.patch = () => {}
      room.onError(() => {})
      return {
        move (pose: MovePose) { room.send('i_moved', { pose }) },
        heartbeat () {},
        close () { room.connection.close() }
      }
    },

    async timeJoin (roomId: string, index: number) {
      const started = performance.now()
      const room = await within(client.joinById<StateView>(roomId, { index }), JOIN_TIMEOUT_MS, `timed join of ${roomId}`)
      let bytes = 0
      socketOf(room).on('message', (data) => { bytes += (data as ArrayBuffer).byteLength })
      const state = await within(new Promise<StateView>((resolve) => {
        if (room.state?.entities !== undefined && room.state.entities.size > 0) resolve(room.state)
        room.onStateChange.once((s) => resolve(s))
      }), JOIN_TIMEOUT_MS, `first state of ${roomId}`)
      const ms = performance.now() - started
      await room.leave()
      return { ms, bytes, entities: state.entities?.size ?? 0 }
    }
  }
}
