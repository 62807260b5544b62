/**
 * Bench baselines over plain `ws`, speaking just enough Phoenix v2 for the generator:
 *   relay — forwards every move to every room peer at once as an entities_diff (no batching);
 *   floor — keeps each user's latest pose text (no JSON parse) and every 50 ms sends one
 *           diff per room, serialized once, to every member: the cost of the sends alone.
 * Mode from argv[2].
 */
import { WebSocketServer, type WebSocket } from 'ws'
import { serve } from '../lib/ipc.ts'

const mode = process.argv[2] === 'floor' ? 'floor' : 'relay'
interface Room { members: Set<WebSocket>, latest: Map<string, string> }
const rooms = new Map<string, Room>()
const room = (topic: string): Room => { let r = rooms.get(topic); if (!r) rooms.set(topic, r = { members: new Set(), latest: new Map() }); return r }
let nextUser = 0

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/socket/websocket' })
wss.on('connection', (ws) => {
  const userId = `u${nextUser++}`
  let joined: Room | undefined
  ws.on('message', (data: Buffer) => {
    const text = data.toString()
    if (text.includes('"i_moved"')) {
      if (!joined) return
      const at = text.indexOf('"pose":')
      const pose = text.slice(at + 7, text.length - 2) // '{...}' up to the closing '}]'
      const topic = text.slice(text.indexOf('"room:'), text.indexOf('"i_moved"') - 1)
      if (mode === 'relay') {
        const frame = `[null,null,${topic},"entities_diff",{"creates":{},"updates":{"${userId}":${pose}},"deletes":{}}]`
        for (const peer of joined.members) if (peer !== ws) peer.send(frame)
      } else {
        joined.latest.set(userId, pose)
      }
      return
    }
    const frame = JSON.parse(text) as [string | null, string | null, string, string, unknown]
    if (frame[3] === 'phx_join') {
      joined = room(frame[2])
      joined.members.add(ws)
      ws.send(JSON.stringify([frame[0], frame[1], frame[2], 'phx_reply', { status: 'ok', response: {} }]))
    } else if (frame[3] === 'heartbeat') {
      ws.send(JSON.stringify([null, frame[1], 'phoenix', 'phx_reply', { status: 'ok', response: {} }]))
    }
  })
  ws.on('close', () => { joined?.members.delete(ws); joined?.latest.delete(userId) })
})

if (mode === 'floor') {
  setInterval(() => {
    for (const [topic, r] of rooms) {
      if (r.latest.size === 0) continue
      let updates = ''
      for (const [id, pose] of r.latest) updates += `${updates ? ',' : ''}"${id}":${pose}`
      r.latest.clear()
      const frame = Buffer.from(`[null,null,"${topic}","entities_diff",{"creates":{},"updates":{${updates}},"deletes":{}}]`)
      for (const ws of r.members) ws.send(frame)
    }
  }, 50)
}

let cpu = process.cpuUsage()
const listening = new Promise<void>(resolve => wss.on('listening', resolve))
serve({
  async setup (args: { rooms: number }) {
    await listening
    const address = wss.address()
    const port = typeof address === 'object' && address ? address.port : 0
    return { port, roomIds: Array.from({ length: args.rooms }, (_, i) => `r${i}`), secret: 'baseline-secret-key-base-0123456789-0123456789' }
  },
  resetStats () { cpu = process.cpuUsage(); return true },
  stats () { const used = process.cpuUsage(cpu); return { cpuMs: (used.user + used.system) / 1000, rss: process.memoryUsage().rss } },
  stop () { process.exit(0) }
})
