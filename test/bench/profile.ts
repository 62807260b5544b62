/** CPU profile of this server under load: `npx tsx test/bench/profile.ts [users] [seconds]`; .cpuprofile in results/, top self-time frames printed. */
import fs from 'node:fs'
import path from 'node:path'
import { Child } from './lib/ipc.ts'

const users = Number(process.argv[2] ?? 200); const seconds = Number(process.argv[3] ?? 10)
const dir = path.join(import.meta.dirname, 'results', 'profile')
fs.rmSync(dir, { recursive: true, force: true }); fs.mkdirSync(dir, { recursive: true })
const server = Child.start(path.join(import.meta.dirname, 'servers/ours.ts'), { core: 0, label: 'ours', execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`] })
const gen = Child.start(path.join(import.meta.dirname, 'generator/generator.ts'), { core: 1, label: 'generator' })
const setup = await server.call<{ port: number, roomIds: string[], secret: string }>('setup', { rooms: Math.ceil(users / 25) })
console.log(await gen.call('run', { ...setup, users, seconds, warmupSeconds: 1 }))
await gen.stop(3000); await server.stop(10_000)
interface Node { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number }
for (const file of fs.readdirSync(dir)) {
  const prof = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { nodes: Node[] }
  const total = prof.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0)
  const by = new Map<string, number>()
  for (const n of prof.nodes) {
    const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\/work\/main\//, '')}:${n.callFrame.lineNumber + 1}`
    by.set(key, (by.get(key) ?? 0) + (n.hitCount ?? 0))
  }
  for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(100 * v / total).toFixed(1).padStart(5)}%  ${k}`)
}
