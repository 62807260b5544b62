// How long /rooms takes to render with 10,000 rooms: `npm run bench:rooms [-- --rooms N --requests N]`.
// The whole app over app.inject on a fresh database (PGlite, or PostgreSQL when DATABASE_URL is
// set); some rooms have people in them, as the occupied-first ordering must read them.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { buildApp } from '../../src/app.ts'
import { testDatabase } from '../helpers/database.ts'

const { values } = parseArgs({ options: { rooms: { type: 'string', default: '10000' }, requests: { type: 'string', default: '300' } } })
const roomCount = Number(values.rooms)
const requests = Number(values.requests)

const teardowns: Array<() => unknown> = []
const database = await testDatabase({ teardown: (fn) => { teardowns.unshift(fn) } })
const app = await buildApp({ database, logger: false })
await database.prisma.$executeRaw`
  INSERT INTO rooms (id, name, description, visibility, created_at, updated_at)
  SELECT 'bench' || n, 'Room number ' || n, 'A benchmark room', CASE WHEN n % 10 = 0 THEN 'unlisted' ELSE 'public' END,
         now() - n * interval '1 second', now()
  FROM generate_series(1, ${roomCount}) AS n`
for (let n = 1; n <= 50; n++) app.roomDirectory.setOccupancy(`bench${n * 37}`, n % 7 + 1)

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

const lines: string[] = []
for (const url of ['/rooms', '/rooms?page=200', '/rooms?q=number%2012']) {
  for (let i = 0; i < 20; i++) await app.inject({ url })
  const times: number[] = []
  for (let i = 0; i < requests; i++) {
    const started = performance.now()
    const res = await app.inject({ url })
    times.push(performance.now() - started)
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode}`)
  }
  times.sort((a, b) => a - b)
  const line = `${url.padEnd(24)} ${roomCount} rooms, ${requests} requests: p50 ${percentile(times, 0.5).toFixed(1)} ms, p99 ${percentile(times, 0.99).toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms`
  console.log(line)
  lines.push(line)
}
const stamp = new Date().toISOString().replace(/[:.]/g, '-')
const machine = `${os.cpus()[0]?.model ?? 'cpu'}, ${os.availableParallelism()} cores, load average ${os.loadavg().map(l => l.toFixed(1)).join(' ')} at the end`
const resultsDir = path.join(import.meta.dirname, 'results')
fs.mkdirSync(resultsDir, { recursive: true })
fs.writeFileSync(path.join(resultsDir, `rooms-${stamp}.md`), [
  `# Room list bench ${stamp}`, '',
  `${machine}. ${process.env.DATABASE_URL ? 'PostgreSQL' : 'Embedded PGlite'}; over app.inject, after 20 warm-up requests per address.`, '',
  '```', ...lines, '```', ''
].join('\n'))
await app.close()
for (const fn of teardowns) await fn()
