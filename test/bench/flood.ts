/**
 * Abuse bench: one client address floods the real server with malformed frames from many
 * connections, and a well-behaved pair in one room measures what it still gets.
 *
 *   npm run bench:flood -- [--runs 3] [--seconds 10] [--rate 10000] [--connections 50]
 *
 * Each run measures the `entities_diff` rate the pair's observer receives while its mover sends
 * 40 poses a second, and how long a pose takes to reach the observer, first without the flood,
 * then with it (the flood comes from a child process of its own, so the measuring client does
 * not share its event loop). The server
 * closes a flooding connection after 20 protocol errors in 10 s; the flooder reconnects at once.
 * Writes test/bench/results/flood-<time>.json and .md.
 */
import { fork } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import { signUserToken } from '../../src/phoenix/token.ts'
import { compiledServerChild } from './lib/compiled.ts'
import { Child } from './lib/ipc.ts'

const HERE = import.meta.dirname
const RESULTS_DIR = path.join(HERE, 'results')
/** One address for the whole flood (the bench server trusts X-Forwarded-For, as behind a load balancer; see servers/ours.ts). */
const FLOOD_ADDRESS = '198.51.100.7'
/**
 * Above the 20 Hz patch rate (and under the 60/s move limit), so every sync window has a fresh
 * pose and the diff rate alone is the full 20/s; at 20 moves/s the two clocks alias and the rate
 * alone wanders between 14 and 19 diffs/s, which made the ratio noise.
 */
const MOVES_PER_SECOND = 40

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    rate: { type: 'string', default: '10000' },
    connections: { type: 'string', default: '50' },
    port: { type: 'string' },
    secret: { type: 'string' }
  }
})

const GARBAGE = [
  '{not json',
  '[1,2,3]',
  JSON.stringify(['1', '1', 'room:nowhere', 'phx_join', 'not an object']),
  JSON.stringify([null, '2', 'room:nowhere', 'i_moved', { pose: 'x' }]),
  JSON.stringify(['3', '3', 'nowhere', 'phx_join', {}])
]

/** The flooder (a child process): `rate` malformed frames a second, spread over `connections` sockets, reconnecting each one the server closes. */
async function flood (port: number, rate: number, connections: number): Promise<void> {
  const sockets = new Set<WebSocket>()
  let sent = 0
  let closedByServer = 0
  const open = (): void => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket/websocket?vsn=2.0.0`, { headers: { 'x-forwarded-for': FLOOD_ADDRESS }, perMessageDeflate: false })
    ws.on('open', () => sockets.add(ws))
    ws.on('error', () => {})
    ws.on('close', (code) => {
      if (code === 1008) closedByServer++
      sockets.delete(ws)
      setTimeout(open, 10)
    })
  }
  for (let i = 0; i < connections; i++) open()
  const TICK_MS = 10
  const perTick = Math.round(rate * TICK_MS / 1000)
  setInterval(() => {
    const open = [...sockets]
    if (open.length === 0) return
    for (let i = 0; i < perTick; i++) {
      const ws = open[i % open.length]!
      if (ws.readyState === ws.OPEN) { ws.send(GARBAGE[i % GARBAGE.length]!); sent++ }
    }
  }, TICK_MS)
  setInterval(() => process.send?.({ sent, closedByServer }), 1000)
}

interface Member {
  ws: WebSocket
  diffs: number
  roomTopic: string
  /** The head x of the mover in each diff that moved it, with the time it arrived. */
  onMoverX?: (x: number, at: number) => void
}

async function member (port: number, secret: string, roomId: string, userId: string): Promise<Member> {
  const token = signUserToken(secret, userId, { username: userId })
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket/websocket?vsn=2.0.0&_user_token=${token}`, { perMessageDeflate: false })
  const m: Member = { ws, diffs: 0, roomTopic: `room:${roomId}` }
  await new Promise<void>((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const joined = new Promise<void>((resolve) => {
    ws.on('message', (data) => {
      const text = String(data)
      if (text.includes('"entities_diff"')) {
        m.diffs++
        const x = (JSON.parse(text)[4]?.updates?.mover?.head as number[] | undefined)?.[0]
        if (typeof x === 'number') m.onMoverX?.(x, performance.now())
      }
      else if (text.startsWith('["1","1"') && text.includes('phx_reply')) resolve()
    })
  })
  ws.send(JSON.stringify(['1', '1', `room:${roomId}`, 'phx_join', {}]))
  await joined
  setInterval(() => ws.readyState === ws.OPEN && ws.send(JSON.stringify([null, null, 'phoenix', 'heartbeat', {}])), 20_000).unref()
  return m
}

interface Window { diffsPerSecond: number, p50: number, p99: number, seen: number, sent: number }

function percentile (sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

/**
 * Diffs per second the observer receives while the mover moves, over `seconds`, and how long a
 * pose takes from the mover's send to the observer (each pose's x is its sequence number).
 */
async function measure (mover: Member, observer: Member, seconds: number): Promise<Window> {
  const sentAt: number[] = []
  const latencies: number[] = []
  let counting = false
  observer.onMoverX = (x, at) => {
    const seq = Math.round(x * 1000)
    if (counting && sentAt[seq] !== undefined) latencies.push(at - sentAt[seq]!)
  }
  const timer = setInterval(() => {
    const seq = sentAt.length
    sentAt.push(performance.now())
    mover.ws.send(JSON.stringify(['1', null, mover.roomTopic, 'i_moved', { pose: { head: [seq / 1000, 1.6, 0, 0, 0, 0, 1] } }]))
  }, 1000 / MOVES_PER_SECOND)
  await new Promise(resolve => setTimeout(resolve, 1000))
  const start = observer.diffs
  const firstSeq = sentAt.length
  counting = true
  const began = performance.now()
  await new Promise(resolve => setTimeout(resolve, seconds * 1000))
  const diffsPerSecond = (observer.diffs - start) / ((performance.now() - began) / 1000)
  counting = false
  clearInterval(timer)
  latencies.sort((a, b) => a - b)
  return { diffsPerSecond, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), seen: latencies.length, sent: sentAt.length - firstSeq }
}

async function main (): Promise<void> {
  const runs = Number(args.runs)
  const seconds = Number(args.seconds)
  const rate = Number(args.rate)
  const connections = Number(args.connections)
  const results: Array<{ baseline: Window, flooded: Window, ratio: number, floodSent: number, closedByServer: number }> = []
  for (let run = 0; run < runs; run++) {
    const server = Child.start(await compiledServerChild(), { args: ['xr-rooms'], label: 'server' })
    const info = await server.call<{ port: number, secret: string }>('info', undefined, 120_000)
    const [roomId] = await server.call<string[]>('rooms', { count: 1 })
    const mover = await member(info.port, info.secret, roomId!, 'mover')
    const observer = await member(info.port, info.secret, roomId!, 'observer')
    const baseline = await measure(mover, observer, seconds)

    const flooder = fork(import.meta.filename, ['flood', '--port', String(info.port), '--rate', String(rate), '--connections', String(connections)], {
      execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    let floodStats = { sent: 0, closedByServer: 0 }
    flooder.on('message', (stats: typeof floodStats) => { floodStats = stats })
    // tsx takes a while to start on a busy machine: measure once the flood is on.
    await new Promise<void>(resolve => flooder.on('message', (stats: typeof floodStats) => { if (stats.sent > 0) resolve() }))
    const sentBefore = floodStats.sent
    const closedBefore = floodStats.closedByServer
    const flooded = await measure(mover, observer, seconds)
    const floodSent = (floodStats.sent - sentBefore) / (seconds + 1)
    const closedByServer = floodStats.closedByServer - closedBefore
    flooder.kill()
    mover.ws.close()
    observer.ws.close()
    await server.stop()
    const result = { baseline, flooded, ratio: flooded.diffsPerSecond / baseline.diffsPerSecond, floodSent, closedByServer }
    results.push(result)
    console.log(`run ${run + 1}: ${baseline.diffsPerSecond.toFixed(2)} diffs/s alone (pose seen p50 ${baseline.p50.toFixed(1)} ms, p99 ${baseline.p99.toFixed(1)} ms), ${flooded.diffsPerSecond.toFixed(2)} under ${Math.round(floodSent)} malformed frames/s (${(result.ratio * 100).toFixed(1)}%; p50 ${flooded.p50.toFixed(1)} ms, p99 ${flooded.p99.toFixed(1)} ms); ${closedByServer} flooding connections closed with 1008`)
  }
  const ratios = results.map(r => r.ratio * 100).sort((a, b) => a - b)
  const median = ratios[Math.floor(ratios.length / 2)]!
  const summary = { median, min: ratios[0]!, max: ratios[ratios.length - 1]! }
  console.log(`entities_diff rate under flood: median ${median.toFixed(1)}% of the rate without (${summary.min.toFixed(1)}–${summary.max.toFixed(1)}% over ${runs} runs)`)
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const machine = `${os.cpus()[0]?.model ?? 'cpu'}, ${os.availableParallelism()} cores, load average ${os.loadavg().map(l => l.toFixed(1)).join(' ')} at the end`
  fs.mkdirSync(RESULTS_DIR, { recursive: true })
  fs.writeFileSync(path.join(RESULTS_DIR, `flood-${stamp}.json`), JSON.stringify({ args: { runs, seconds, rate, connections }, machine, results, summary }, null, 2))
  fs.writeFileSync(path.join(RESULTS_DIR, `flood-${stamp}.md`), [
    `# Flood bench ${stamp}`, '', `${machine}. ${rate} malformed frames/s requested from one address over ${connections} connections; ${seconds} s windows.`, '',
    '| run | diffs/s alone | diffs/s flooded | ratio | pose seen p50 / p99 alone (ms) | pose seen p50 / p99 flooded (ms) | malformed frames/s sent | flooding connections closed (1008) |', '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map((r, i) => `| ${i + 1} | ${r.baseline.diffsPerSecond.toFixed(2)} | ${r.flooded.diffsPerSecond.toFixed(2)} | ${(r.ratio * 100).toFixed(1)}% | ${r.baseline.p50.toFixed(1)} / ${r.baseline.p99.toFixed(1)} | ${r.flooded.p50.toFixed(1)} / ${r.flooded.p99.toFixed(1)} | ${Math.round(r.floodSent)} | ${r.closedByServer} |`),
    '', `Median ${median.toFixed(1)}%, range ${summary.min.toFixed(1)}–${summary.max.toFixed(1)}%.`, ''
  ].join('\n'))
  process.exit(0)
}

if (positionals[0] === 'flood') void flood(Number(args.port), Number(args.rate), Number(args.connections))
else await main()
