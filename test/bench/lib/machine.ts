/**
 * The machine's CPU as a whole (Linux /proc/stat), to see work that is not the bench's: other
 * processes competing for the two cores make latency figures meaningless, so the bench waits
 * for a quiet machine and reports what else ran during each measuring window.
 */
import fs from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

export interface CpuTimes {
  /** ms of CPU busy (user, nice, system, irq, softirq), all cores. */
  busyMs: number
  /** ms stolen by the hypervisor, all cores. */
  stealMs: number
  at: number
}

const TICK_MS = 10

export function cpuTimes (): CpuTimes | null {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number)
    return { busyMs: (user + nice + system + irq + softirq) * TICK_MS, stealMs: (steal ?? 0) * TICK_MS, at: performance.now() }
  } catch {
    return null
  }
}

/** Busy CPU since `from`, percent of one core (so up to 100 × cores), and steal likewise. */
export function cpuSince (from: CpuTimes | null): { busyPercent: number, stealPercent: number } {
  const to = cpuTimes()
  if (!from || !to) return { busyPercent: NaN, stealPercent: NaN }
  const elapsed = to.at - from.at
  return { busyPercent: 100 * (to.busyMs - from.busyMs) / elapsed, stealPercent: 100 * (to.stealMs - from.stealMs) / elapsed }
}

/**
 * CPU time used so far by every process called `name` (all threads), ms; 0 where /proc cannot
 * be read. For a database server outside the bench's processes (PostgreSQL's are "postgres").
 */
export function processCpuMs (name: string): number {
  let ticks = 0
  let pids: string[] = []
  try {
    pids = fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))
  } catch {}
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      const close = stat.lastIndexOf(')')
      if (stat.slice(stat.indexOf('(') + 1, close) !== name) continue
      // After the name: state (field 3) … utime (14), stime (15).
      const fields = stat.slice(close + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // The process ended meanwhile.
    }
  }
  return ticks * TICK_MS
}

/**
 * Waits until the machine has been quiet (busy below `maxBusyPercent` of one core) over a
 * `sampleMs` sample, for at most `timeoutMs`. Resolves with the last busy figure.
 */
export async function waitForQuiet ({ maxBusyPercent = 15, sampleMs = 1500, timeoutMs = 300_000, onWait = (_busy: number) => {} } = {}): Promise<number> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const start = cpuTimes()
    if (!start) return NaN
    await sleep(sampleMs)
    const { busyPercent } = cpuSince(start)
    if (busyPercent <= maxBusyPercent || performance.now() > deadline) return busyPercent
    onWait(busyPercent)
  }
}
