/**
 * Load generator child: N users over raw ws across the given rooms, each sending a pose at 20 Hz
 * with head x = a per-user sequence number (head y = user index); every receiver records
 * move→seen latency into an HDR histogram.
 */
import * as hdr from 'hdr-histogram-js'
import WebSocket from 'ws'
import { Client as ColyseusClient, type Room as ColyseusRoom } from 'colyseus.js'
import { signUserToken } from '../../../src/phoenix/token.ts'
import { serve } from '../lib/ipc.ts'

export interface LoadArgs { protocol?: 'phoenix' | 'colyseus', port: number, roomIds: string[], secret: string, users: number, seconds: number, warmupSeconds: number }

async function run (args: LoadArgs): Promise<Record<string, number>> {
  const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  const sent: Array<Map<number, number>> = [] // per user: seq → send time (ms)
  const seenBy: Array<Map<number, number>> = [] // per user: seq → receivers seen
  const roomSize = new Map<string, number>()
  let measuring = false
  let offered = 0; let diffs = 0; let bytes = 0; let seenCount = 0
  const sockets: WebSocket[] = []
  const senders: Array<(seq: number, pose: object) => void> = []
  const closers: Array<() => void> = []
  const timers: NodeJS.Timeout[] = []
  await Promise.all(Array.from({ length: args.users }, async (_, i) => {
    const roomId = args.roomIds[i % args.roomIds.length]!
    roomSize.set(roomId, (roomSize.get(roomId) ?? 0) + 1)
    const topic = `room:${roomId}`
    const userId = `bench-${i}`
    sent[i] = new Map(); seenBy[i] = new Map()
    if (args.protocol === 'colyseus') {
      const room = await new ColyseusClient(`ws://127.0.0.1:${args.port}`).joinOrCreate('pose', { roomId }) as ColyseusRoom<any>
      const last = new Map<string, number>()
      room.onStateChange((state: any) => {
        if (measuring) diffs++
        const now = performance.now()
        state.players.forEach((p: any, key: string) => {
          const seq = p.head[0] as number; const from = p.head[1] as number
          if (from === i || seq === 0 || last.get(key) === seq) return
          last.set(key, seq)
          const t = sent[from]?.get(seq)
          if (t === undefined) return
          if (measuring) { hist.recordValue(Math.max(1, Math.round((now - t) * 1000))); seenCount++ }
          const m = seenBy[from]!; m.set(seq, (m.get(seq) ?? 0) + 1)
        })
      })
      senders[i] = (_seq, pose) => room.send('move', pose)
      closers[i] = () => { void room.leave(true).catch(() => {}) }
      return
    }
    const ws = new WebSocket(`ws://127.0.0.1:${args.port}/socket/websocket?vsn=2.0.0&_user_token=${signUserToken(args.secret, userId, { username: userId })}`)
    sockets.push(ws)
    senders[i] = (seq, pose) => ws.send(JSON.stringify(['1', String(seq + 1), topic, 'i_moved', { pose }]))
    closers[i] = () => ws.terminate()
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject)
      ws.on('open', () => ws.send(JSON.stringify(['1', '1', topic, 'phx_join', {}])))
      ws.on('message', (data: Buffer) => {
        const text = data.toString()
        if (text.includes('"phx_reply"') && text.includes('"1","1"')) resolve()
        if (!text.includes('"entities_diff"')) return
        if (measuring) { diffs++; bytes += data.length }
        const now = performance.now()
        const updates = (JSON.parse(text)[4] as { updates: Record<string, { head?: number[] }> }).updates
        for (const key in updates) {
          const head = updates[key]?.head
          if (!head) continue
          const from = head[1]!; const seq = head[0]!
          if (from === i) continue
          const t = sent[from]?.get(seq)
          if (t === undefined) continue
          if (measuring) { hist.recordValue(Math.max(1, Math.round((now - t) * 1000))); seenCount++ }
          const m = seenBy[from]!; m.set(seq, (m.get(seq) ?? 0) + 1)
        }
      })
    })
  }))
  const moveMsgs: number[] = []
  senders.forEach((send, i) => {
    let seq = 0
    setTimeout(() => {
      timers.push(setInterval(() => {
        seq++
        const r = Math.random
        const pose = { head: [seq, i, r(), 0, 0, 0, 1], left: [r(), r(), r(), 0, 0, 0, 1], right: [r(), r(), r(), 0, 0, 0, 1] }
        sent[i]!.set(seq, performance.now())
        if (measuring) { offered++; moveMsgs.push(i * 1e7 + seq) }
        send(seq, pose)
      }, 50))
    }, Math.random() * 50)
  })
  await new Promise(resolve => setTimeout(resolve, args.warmupSeconds * 1000))
  measuring = true
  const start = performance.now()
  await new Promise(resolve => setTimeout(resolve, args.seconds * 1000))
  measuring = false
  const elapsed = (performance.now() - start) / 1000
  timers.forEach(clearInterval)
  await new Promise(resolve => setTimeout(resolve, 500)) // let the last diffs arrive
  // Lost: (move, peer) pairs never seen. Batching coalesces moves, so count a move as lost for a
  // peer only when a later move of the same user was not seen either... simple rule: expected
  // deliveries = moves × (room size − 1); any move seen by nobody counts as lost.
  // A move superseded by a later move of the same user that was seen is coalesced, not lost.
  let lost = 0; let coalesced = 0
  const maxSeen = seenBy.map(m => { let x = 0; for (const k of m.keys()) if (k > x) x = k; return x })
  for (const key of moveMsgs) {
    const user = Math.floor(key / 1e7); const seq = key % 1e7
    if ((roomSize.get(args.roomIds[user % args.roomIds.length]!) ?? 1) < 2 || seenBy[user]!.has(seq)) continue
    if (seq < maxSeen[user]!) coalesced++; else lost++
  }
  for (const close of closers) close()
  return {
    users: args.users, rooms: args.roomIds.length, seconds: elapsed,
    movesOffered: offered / elapsed, diffsPerS: diffs / elapsed, bytesPerS: bytes / elapsed,
    movesSeenPerS: seenCount / elapsed, lost, coalesced,
    p50: hist.getValueAtPercentile(50) / 1000, p90: hist.getValueAtPercentile(90) / 1000,
    p99: hist.getValueAtPercentile(99) / 1000, max: hist.maxValue / 1000
  }
}

serve({ run: (args: LoadArgs) => run(args), stop: () => process.exit(0) })
