/**
 * Client frame time (not part of `npm test`): the room page in headless Chromium
 * (SwiftShader WebGL 2, no GPU) with 50 other people moving head and hands at 20 Hz and
 * 200 objects, and the size of the client bundle. Prints one JSON line and a summary.
 *
 *   npm run bench:client                 # 3 s warm-up, 10 s measured
 *   npm run bench:client -- --seconds 5 --avatars 20 --objects 100
 *   npm run bench:client -- --avatars 2 --objects 40 --seconds 1 --screenshot docs/room.png
 */
import { gzipSync } from 'node:zlib'
import fs from 'node:fs'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import { buildApp } from '../../src/app.ts'
import { Rooms } from '../../src/db/rooms.ts'
import type { EntityMap } from '../../src/shared/world.ts'
import { signUserToken } from '../../src/phoenix/token.ts'
import { buildClient } from '../../src/scripts/build-client.ts'
import { testDatabase } from '../helpers/database.ts'
import { launchChromium } from '../browser/fixtures/browser.ts'

const { values } = parseArgs({
  options: {
    avatars: { type: 'string', default: '50' },
    objects: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    screenshot: { type: 'string' }
  }
})
const AVATARS = Number(values.avatars)
const OBJECTS = Number(values.objects)
const SECONDS = Number(values.seconds)
const WARMUP = Number(values.warmup)
const SECRET = 'bench-secret-key-base-0123456789-0123456789-0123456789'

const cleanups: Array<() => unknown> = []
const quit = async (): Promise<void> => { for (const fn of cleanups.reverse()) await fn() }

const bundle = await buildClient()
const gzipped = gzipSync(fs.readFileSync(bundle.outfile), { level: 9 }).length

/** A ground, a spawn point, and `n` boxes on a grid around it, a quarter of them holdable. */
function benchWorld (n: number): EntityMap {
  const world: EntityMap = {
    ground: { mesh_builder: ['ground', { width: 100, height: 100, subdivisions: 2 }], position: [0, 0, 0], material: 'grid', teleportable: true },
    spawn: { spawn_point: true, position: [0, 0, -12] }
  }
  const side = Math.ceil(Math.sqrt(n))
  for (let i = 0; i < n; i++) {
    const size = i % 4 === 0 ? 0.4 : 0.8 + (i % 3) * 0.4
    world[`box-${i}`] = {
      mesh_builder: ['box', { size }],
      position: [(i % side - side / 2) * 2.5, size / 2, (Math.floor(i / side) - side / 2) * 2.5 + 8],
      color: [0.3 + (i % 5) * 0.12, 0.5, 0.8 - (i % 7) * 0.08],
      ...(i % 4 === 0 ? { holdable: true } : {})
    }
  }
  return world
}

const database = await testDatabase({ teardown: fn => cleanups.push(fn) })
const room = await new Rooms(database.prisma).createRoom({ name: 'Client bench', capacity: 100 }, benchWorld(OBJECTS))
const app = await buildApp({ database, logger: false, config: { secretKeyBase: SECRET } })
cleanups.push(() => app.close())
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
const port = address.port

/** For a screenshot the people stand in a row 3 m in front of the spawn point, facing it. */
const posing = values.screenshot !== undefined

/** One moving person, speaking Phoenix v2 frames directly: walks a circle, hands swinging. */
function mover (index: number): void {
  const topic = `room:${room.id}`
  const token = signUserToken(SECRET, `bench-${index}`, { username: `Person ${index}` })
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket/websocket?vsn=2.0.0&_user_token=${token}`)
  let t = index
  const timers: NodeJS.Timeout[] = []
  ws.on('open', () => {
    ws.send(JSON.stringify(['1', '1', topic, 'phx_join', {}]))
    timers.push(setInterval(() => {
      t += 0.05
      const r = 3 + (index % 5) * 1.5
      const [x, z] = posing ? [(index - (AVATARS - 1) / 2) * 1.4, -9] : [Math.sin(t / 2) * r, Math.cos(t / 2) * r - 4]
      const yaw = posing ? Math.PI - (index - (AVATARS - 1) / 2) * 0.5 : t / 2 + Math.PI / 2
      const q = [0, Math.sin(yaw / 2), 0, Math.cos(yaw / 2)]
      const swing = Math.sin(t * 3) * 0.15
      const head = [x, 1.6, z, ...q]
      const [sin, cos] = [Math.sin(yaw), Math.cos(yaw)]
      const left = [x - 0.25 * cos + 0.3 * sin, 1.15, z + 0.25 * sin + 0.3 * cos + swing, ...q]
      const right = [x + 0.25 * cos + 0.3 * sin, 1.15 + swing, z - 0.25 * sin + 0.3 * cos, ...q]
      ws.send(JSON.stringify(['1', null, topic, 'i_moved', { pose: { head, left, right } }]))
    }, 50))
  })
  ws.on('message', () => {})
  cleanups.push(() => { timers.forEach(clearInterval); ws.close() })
}
for (let i = 0; i < AVATARS; i++) mover(i)

const browser = await launchChromium()
cleanups.push(() => browser.close())
const page = await browser.newPage({ viewport: { width: 960, height: 540 } })
await page.goto(`http://127.0.0.1:${port}/rooms/${room.id}`)
await page.waitForFunction((n) => window.xr?.socketConnected() &&
  window.xr.scene!.meshes.filter(m => m.name.startsWith('avatar-skull:')).length >= n, AVATARS, { timeout: 60_000 })
await page.waitForTimeout(WARMUP * 1000)

const frames = await page.evaluate(async (seconds) => {
  const scene = window.xr.scene!
  const render: number[] = []
  const interval: number[] = []
  let start = 0
  let last = 0
  const before = scene.onBeforeRenderObservable.add(() => { start = performance.now() })
  const after = scene.onAfterRenderObservable.add(() => {
    const now = performance.now()
    render.push(now - start)
    if (last) interval.push(now - last)
    last = now
  })
  await new Promise(resolve => setTimeout(resolve, seconds * 1000))
  scene.onBeforeRenderObservable.remove(before)
  scene.onAfterRenderObservable.remove(after)
  return { render, interval, meshes: scene.meshes.length, active: scene.getActiveMeshes().length }
}, SECONDS)

if (values.screenshot) await page.locator('#room-canvas').screenshot({ path: values.screenshot })

const stats = (xs: number[]): { p50: number, p95: number, mean: number } => {
  const s = [...xs].sort((a, b) => a - b)
  const at = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN
  const round = (n: number): number => Math.round(n * 10) / 10
  return { p50: round(at(0.5)), p95: round(at(0.95)), mean: round(s.reduce((a, b) => a + b, 0) / s.length) }
}
const result = {
  avatars: AVATARS,
  objects: OBJECTS,
  seconds: SECONDS,
  frames: frames.interval.length,
  fps: Math.round(frames.interval.length / SECONDS * 10) / 10,
  frameIntervalMs: stats(frames.interval),
  sceneRenderMs: stats(frames.render),
  meshes: frames.meshes,
  bundleKiB: Math.round(bundle.bytes / 1024),
  bundleGzipKiB: Math.round(gzipped / 1024)
}
console.log(JSON.stringify(result))
console.log(`${AVATARS} avatars, ${OBJECTS} objects, ${frames.meshes} meshes: ${result.fps} fps; frame interval p50 ${result.frameIntervalMs.p50} ms, p95 ${result.frameIntervalMs.p95} ms; scene.render p50 ${result.sceneRenderMs.p50} ms, p95 ${result.sceneRenderMs.p95} ms`)
console.log(`bundle ${result.bundleKiB} KiB minified, ${result.bundleGzipKiB} KiB gzipped`)
await quit()
