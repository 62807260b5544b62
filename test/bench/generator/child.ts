/**
 * The load generator in a process of its own, driven by the bench over IPC:
 *
 *   node --import tsx test/bench/generator/child.ts
 *
 * Commands: init {address, roomSize, observersPerRoom}, add {roomIds}, idle {roomIds, perRoom}, closeIdle,
 * measure {ms, graceMs}, joins {roomId, times}, usage (CPU time of this process), stop.
 */
import { serve } from '../lib/ipc.ts'
import { LoadGenerator, adapterFor } from './load.ts'
import type { TargetAddress } from './target.ts'

let generator: LoadGenerator | null = null
const need = (): LoadGenerator => {
  if (!generator) throw new Error('init first')
  return generator
}
let nextJoinIndex = 500_000

serve({
  init: ({ address, roomSize, observersPerRoom }: { address: TargetAddress, roomSize: number, observersPerRoom?: number }) => {
    generator = new LoadGenerator(adapterFor(address), { roomSize, observersPerRoom })
    return true
  },
  add: ({ roomIds, concurrency }: { roomIds: string[], concurrency?: number }) => need().addUsers(roomIds, { concurrency }),
  idle: ({ roomIds, perRoom }: { roomIds: string[], perRoom: number }) => need().addIdle(roomIds, perRoom),
  closeIdle: () => { need().closeIdle(); return true },
  usage: () => {
    const cpu = process.cpuUsage()
    return { cpuUs: cpu.user + cpu.system }
  },
  measure: ({ ms, graceMs }: { ms: number, graceMs?: number }) => need().measure(ms, graceMs),
  /** Join benchmark: joins `roomId` `times` times in a row, each with a fresh connection. */
  joins: async ({ roomId, times }: { roomId: string, times: number }) => {
    const { adapter } = need()
    if (!adapter.timeJoin) throw new Error(`${adapter.name} has no join benchmark`)
    const results = []
    for (let i = 0; i < times; i++) results.push(await adapter.timeJoin(roomId, nextJoinIndex++))
    return results
  },
  stop: () => {
    generator?.close()
    setTimeout(() => process.exit(0), 50)
    return true
  }
})
