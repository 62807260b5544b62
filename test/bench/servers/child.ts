/**
 * A target server in a process of its own, driven by the bench over IPC:
 *
 *   node --import tsx --expose-gc test/bench/servers/child.ts <xr-rooms|colyseus|ws-relay|ws-floor>
 *
 * (the bench runs it compiled: lib/compiled.ts).
 *
 * Commands: info, rooms {count, entities}, usage (CPU and memory of this process), gc,
 * profileStart / profileStop {file} (V8's CPU profiler, as `node --cpu-prof` runs it, but over
 * a chosen window only), stop.
 */
import fs from 'node:fs'
import { Session } from 'node:inspector/promises'
import { serve } from '../lib/ipc.ts'
import { TARGETS, type TargetName } from '../generator/target.ts'
import type { BenchServer } from './server.ts'

const name = process.argv[2] as TargetName
if (!TARGETS.includes(name)) throw new Error(`unknown target ${name}; one of ${TARGETS.join(', ')}`)

async function start (): Promise<BenchServer & { secret?: string }> {
  switch (name) {
    case 'xr-rooms': {
      const { startOurs, BENCH_SECRET } = await import('./ours.ts')
      return { ...await startOurs({ secret: BENCH_SECRET }), secret: BENCH_SECRET }
    }
    case 'colyseus': return await (await import('./colyseus.ts')).startColyseus()
    case 'ws-relay': return await (await import('./raw.ts')).startRelay()
    case 'ws-floor': return await (await import('./raw.ts')).startFloor()
  }
}

// Requests are taken from the start: a message arriving before there is a listener is lost,
// and starting a server takes a while. They wait for the server instead.
const starting = start()

export interface Usage {
  /** CPU time used since the process started, µs. */
  cpuUs: number
  rss: number
  heapUsed: number
  /** performance.timeOrigin + performance.now() of the reading. */
  at: number
}

const gc = (globalThis as { gc?: () => void }).gc
let profiler: Session | null = null

serve({
  info: async () => {
    const server = await starting
    return { name, port: server.port, secret: server.secret, pid: process.pid }
  },
  rooms: async ({ count, entities }: { count: number, entities?: number }) => (await starting).createRooms(count, entities),
  usage: (): Usage => {
    const cpu = process.cpuUsage()
    const memory = process.memoryUsage()
    return { cpuUs: cpu.user + cpu.system, rss: memory.rss, heapUsed: memory.heapUsed, at: performance.timeOrigin + performance.now() }
  },
  gc: () => {
    // Twice: the first pass may only queue finalizers.
    gc?.()
    gc?.()
    return gc !== undefined
  },
  profileStart: async ({ intervalUs = 200 }: { intervalUs?: number } = {}) => {
    profiler = new Session()
    profiler.connect()
    await profiler.post('Profiler.enable')
    await profiler.post('Profiler.setSamplingInterval', { interval: intervalUs })
    await profiler.post('Profiler.start')
    return true
  },
  profileStop: async ({ file }: { file: string }) => {
    if (!profiler) throw new Error('profileStart first')
    const { profile } = await profiler.post('Profiler.stop')
    profiler.disconnect()
    profiler = null
    fs.writeFileSync(file, JSON.stringify(profile))
    return file
  },
  stop: async () => {
    await (await starting).close()
    // After the reply is out: --cpu-prof writes its profile on this exit.
    setTimeout(() => process.exit(0), 50)
  }
})
