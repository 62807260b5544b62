/**
 * Soak run (not part of `npm test`): starts the real server on a fresh embedded database, has
 * N clients in R rooms move at 20 Hz for M minutes, and prints the server's memory and
 * event-loop lag (read from its /metrics) every interval, so leaks and stalls show as trends.
 *
 *   npm run soak -- --clients 100 --rooms 5 --minutes 10 --every 15
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import readline from 'node:readline'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import { Rooms } from '../../src/db/rooms.ts'
import { signUserToken } from '../../src/phoenix/token.ts'
import { migratedDataDir } from '../helpers/database.ts'

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '50' },
    rooms: { type: 'string', default: '5' },
    minutes: { type: 'string', default: '5' },
    every: { type: 'string', default: '10' }
  }
})
const CLIENTS = Number(values.clients)
const ROOMS = Number(values.rooms)
const MINUTES = Number(values.minutes)
const EVERY_S = Number(values.every)
const SECRET = 'soak-secret-key-base-0123456789-0123456789-0123456789'
const ROOT = path.resolve(import.meta.dirname, '../..')

const cleanups: Array<() => unknown> = []
const { dataDir, db } = await migratedDataDir({ teardown: (fn) => cleanups.push(fn) })
const rooms = new Rooms(db.prisma)
const roomIds: string[] = []
for (let i = 0; i < ROOMS; i++) roomIds.push((await rooms.createRoom({ name: `Soak ${i}` })).id)
await db.close()

const server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
  cwd: ROOT,
  env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: 'json', LOG_LEVEL: 'info', SECRET_KEY_BASE: SECRET },
  stdio: ['ignore', 'pipe', 'inherit']
})
const port = await new Promise<number>((resolve) => {
  readline.createInterface({ input: server.stdout! }).on('line', (line) => {
    const found = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(line)?.[1]
    if (found) resolve(Number(found))
  })
})

/** One client speaking Phoenix v2 frames directly, to keep the load generator cheap. */
function client (index: number): { stop: () => void } {
  const roomId = roomIds[index % roomIds.length]!
  const topic = `room:${roomId}`
  const token = signUserToken(SECRET, `soak-${index}`, { username: `soak ${index}` })
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket/websocket?vsn=2.0.0&_user_token=${token}`)
  let ref = 0
  let timers: NodeJS.Timeout[] = []
  ws.on('open', () => {
    ws.send(JSON.stringify(['1', String(++ref), topic, 'phx_join', {}]))
    let t = Math.random() * 10
    timers = [
      setInterval(() => {
        t += 0.05
        const head = [Math.sin(t) * 3, 1.6, Math.cos(t) * 3, 0, 0, 0, 1]
        ws.send(JSON.stringify(['1', null, topic, 'i_moved', { pose: { head } }]))
      }, 50),
      setInterval(() => ws.send(JSON.stringify([null, String(++ref), 'phoenix', 'heartbeat', {}])), 30_000)
    ]
  })
  ws.on('message', () => {})
  ws.on('error', (err) => console.error(`client ${index}: ${err.message}`))
  return { stop: () => { timers.forEach(clearInterval); ws.close() } }
}

async function sample (): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const metric = (name: string): number => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN)
  return {
    rssMiB: metric('process_resident_memory_bytes') / 2 ** 20,
    heapMiB: metric('nodejs_heap_size_used_bytes') / 2 ** 20,
    lagP99Ms: metric('nodejs_eventloop_lag_p99_seconds') * 1000,
    sockets: metric('xr_sockets_open'),
    queue: metric('xr_persistence_queue_depth')
  }
}

const clients = Array.from({ length: CLIENTS }, (_, i) => client(i))
console.log(`soak: ${CLIENTS} clients in ${ROOMS} rooms for ${MINUTES} min, server on port ${port}`)
console.log('elapsed_s  rss_MiB  heap_MiB  lag_p99_ms  sockets  persist_queue')
const started = Date.now()
const samples: Array<Record<string, number>> = []
while (Date.now() - started < MINUTES * 60_000) {
  await new Promise(resolve => setTimeout(resolve, EVERY_S * 1000))
  const s = await sample()
  samples.push(s)
  console.log([((Date.now() - started) / 1000).toFixed(0).padStart(9), s.rssMiB!.toFixed(1).padStart(8), s.heapMiB!.toFixed(1).padStart(9),
    s.lagP99Ms!.toFixed(1).padStart(11), String(s.sockets).padStart(8), String(s.queue).padStart(14)].join(' '))
}
for (const c of clients) c.stop()
server.kill('SIGTERM')
const [code] = await once(server, 'exit') as [number | null]
const first = samples[0]
const last = samples.at(-1)
if (first && last) console.log(`rss ${first.rssMiB!.toFixed(1)} → ${last.rssMiB!.toFixed(1)} MiB, heap ${first.heapMiB!.toFixed(1)} → ${last.heapMiB!.toFixed(1)} MiB; server exit code ${code}`)
for (const cleanup of cleanups.reverse()) await cleanup()
