// The room in an emulated headset (IWER's Quest 3, installed before the page's scripts):
// Alice enters VR from where she stood, looks and reaches around, picks something up
// and walks with the stick; Bob, on a desktop page, sees all of it.
import t from 'tap'
import type { BrowserContext } from 'playwright-core'
import { buildApp } from '../../src/app.ts'
import { buildClient, isClientBundleStale } from '../../src/scripts/build-client.ts'
import { testDatabase } from '../helpers/database.ts'
import { chromiumMissing, launchChromium, screenshot } from './fixtures/browser.ts'
import { Headset } from './fixtures/headset.ts'
import { installHeadset } from './fixtures/iwer.ts'
import { distance, RoomPage, type Vec3 } from './fixtures/room-page.ts'

const SECRET = 'browser-test-secret-key-base-0123456789abcdef'
// Generous: SwiftShader renders two pages on a shared machine.
const WAIT_MS = 30_000
/** Same heading, within a degree. */
const YAW_TOLERANCE = Math.PI / 180

const missing = chromiumMissing()
if (missing) console.log(`# skipping browser tests: ${missing}`)
t.setTimeout(300_000)

const angleBetween = (a: number, b: number): number => Math.abs(Math.atan2(Math.sin(a - b), Math.cos(a - b)))
const flat = (a: Vec3, b: Vec3): number => Math.hypot(a[0] - b[0], a[2] - b[2])

t.test('the room in an emulated headset', { skip: missing ?? false }, async t => {
  if (isClientBundleStale()) await buildClient()
  const database = await testDatabase(t)
  const app = await buildApp({ database, logger: false, config: { secretKeyBase: SECRET } })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
  const baseURL = `http://127.0.0.1:${address.port}`
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const visitor = async (headset: boolean): Promise<BrowserContext> => {
    const context = await browser.newContext({ baseURL, viewport: { width: 800, height: 450 } })
    context.setDefaultTimeout(WAIT_MS)
    if (headset) await installHeadset(context)
    return context
  }

  const creator = await (await visitor(false)).newPage()
  await creator.goto('/rooms/new')
  await creator.locator('#room-name').fill('VR test room')
  await Promise.all([creator.waitForURL(/\/rooms\/[^/]+$/), creator.locator('form.form button[type=submit]').click()])
  const roomPath = new URL(creator.url()).pathname
  const bob = await RoomPage.adopt(creator, [])
  const bobId = await bob.userId()
  const alice = await RoomPage.open(await visitor(true), roomPath)
  const aliceId = await alice.userId()
  const headset = new Headset(alice.page)
  await alice.setName('Alice')
  let entered: Vec3 = [0, 0, 0]
  let facing = 0

  await t.test('Enter VR keeps the place and the facing', async t => {
    await alice.page.locator('#enter-vr').waitFor({ state: 'visible' })
    t.pass('the emulated headset offers Enter VR')
    await alice.page.evaluate(() => { window.xr.camera!.rotation.y = 0.9 })
    const desk = await alice.waitForCameraAtRest()
    await bob.waitForHeadNear(aliceId, desk, 0.002)
    const deskYaw = await alice.page.evaluate(() => window.xr.camera!.rotation.y)

    await headset.enter()
    t.pass('an immersive session runs: the XR camera renders and the button says Exit VR')
    const inVr = await headset.camera()
    t.ok(flat(inVr.position, desk) < 0.01, `standing where she stood: desktop ${JSON.stringify(desk)}, VR ${JSON.stringify(inVr.position)}`)
    t.ok(Math.abs(inVr.position[1] - 1.6 - (desk[1] - 1.6)) < 0.01, 'the floor stays where it was (headset 1.6 m above it)')
    t.ok(angleBetween(inVr.yaw, deskYaw) < YAW_TOLERANCE, `facing the same way (${deskYaw.toFixed(3)} → ${inVr.yaw.toFixed(3)} rad)`)
    const seen = await bob.waitForHeadNear(aliceId, inVr.position, 0.01)
    t.ok(flat(seen, desk) < 0.01, 'Bob sees her head where she stood')
    entered = inVr.position
    facing = inVr.yaw
  })

  await t.test('the headset moves her head for others', async t => {
    await headset.head([0.4, 1.45, -0.5], 0.5)
    const moved = await headset.camera()
    t.ok(distance(moved.position, entered) > 0.5, `the head moved ${distance(moved.position, entered).toFixed(2)} m`)
    t.ok(angleBetween(moved.yaw, facing - 0.5) < YAW_TOLERANCE, `and turned left with the headset (${facing.toFixed(3)} → ${moved.yaw.toFixed(3)} rad)`)
    await bob.waitForHeadNear(aliceId, moved.position, 0.01)
    t.pass('Bob gets the new head pose')
    await headset.head([0, 1.6, 0], 0)
  })

  await t.test('both controllers are her hands', async t => {
    await headset.controller('left', [-0.25, 1.25, -0.35])
    await headset.controller('right', [0.25, 1.25, -0.35])
    const head = (await headset.camera()).position
    for (const hand of ['left', 'right'] as const) {
      const own = await headset.hand(hand)
      t.ok(distance(own, head) < 0.6 && own[1] < head[1], `${hand} hand below and near the head`)
      await bob.page.waitForFunction(([id, hand, [x, y, z]]) => {
        const p = window.xr.entities()[id]?.[hand]
        return Array.isArray(p) && Math.hypot(p[0] - x, p[1] - y, p[2] - z) < 0.01
      }, [aliceId, hand, own] as const)
      await bob.page.waitForFunction(([id, hand, [x, y, z]]) => {
        const node = window.xr.scene!.getTransformNodeByName(`avatar-${hand}:${id}`)
        if (!node) return false
        const p = node.getAbsolutePosition()
        return Math.hypot(p.x - x, p.y - y, p.z - z) < 0.02
      }, [aliceId, hand, own] as const)
      t.pass(`Bob draws her ${hand} hand at her controller`)
    }
    // Her left hand is on her left: facing `facing`, left is (-cos, sin) on the floor plan.
    const [left, right] = [await headset.hand('left'), await headset.hand('right')]
    const side = (left[0] - right[0]) * -Math.cos(facing) + (left[2] - right[2]) * Math.sin(facing)
    t.ok(side > 0.4, 'left hand to her left')
  })

  await t.test('squeeze on a holdable picks it up, release drops it where the hand is', async t => {
    const entities = await alice.entities()
    const [id, target] = Object.entries(entities)
      .filter(([, c]) => c.holdable === true && (c.parent === undefined || c.parent === null))
      .map(([id, c]) => [id, c.position as Vec3] as const)
      .sort(([, a], [, b]) => flat(a, entered) - flat(b, entered))[0]
    const hand = await headset.hand('right')
    await headset.shift([target[0] - hand[0], target[1] - hand[1], target[2] - hand[2]])
    t.ok(distance(await headset.hand('right'), target) < 0.05, 'right hand on the holdable')
    await bob.page.evaluate(() => {})
    const handle = `${aliceId}:right`
    await headset.squeeze('right', 1)
    t.equal((await alice.entities())[id]?.parent, handle, 'squeeze picked it up')
    await bob.page.waitForFunction(([id, handle]) => window.xr.entities()[id]?.parent === handle, [id, handle] as const)
    t.pass(`Bob's page has parent "${handle}"`)

    await headset.controller('right', [0.25, 1.55, -0.6])
    const moved = await headset.hand('right')
    t.ok(distance(moved, target) > 0.3, 'the hand moved away with it')
    await bob.page.waitForFunction(([id, [x, y, z]]) => {
      const root = window.xr.scene!.getTransformNodeByName(`entity:${id}`)
      if (!root) return false
      const p = root.getAbsolutePosition()
      return Math.hypot(p.x - x, p.y - y, p.z - z) < 0.02
    }, [id, moved] as const)
    t.pass('Bob sees the held object follow her hand')
    await screenshot(alice.page, 'vr-alice-holding.png')

    await headset.squeeze('right', 0)
    t.equal((await alice.entities())[id]?.parent, null, 'letting go drops it')
    await bob.page.waitForFunction((id) => window.xr.entities()[id]?.parent === null, id)
    const dropped = await bob.page.evaluate((id) => window.xr.entities()[id].position as Vec3, id)
    t.ok(distance(dropped, moved) < 0.02, `Bob sees it where her hand let go (${JSON.stringify(dropped)})`)
  })

  await t.test('the left stick walks where she looks', async t => {
    const from = await headset.camera()
    await headset.stick('left', 0, -1)
    await alice.page.waitForFunction(([x, z]) => {
      const p = window.xr.scene!.activeCamera!.globalPosition
      return Math.hypot(p.x - x, p.z - z) > 1
    }, [from.position[0], from.position[2]] as const)
    await headset.stick('left', 0, 0)
    await headset.frames(2)
    const to = await headset.camera()
    const step: Vec3 = [to.position[0] - from.position[0], 0, to.position[2] - from.position[2]]
    const ahead = (step[0] * Math.sin(from.yaw) + step[2] * Math.cos(from.yaw)) / Math.hypot(step[0], step[2])
    t.ok(ahead > 0.99, `walked ${Math.hypot(step[0], step[2]).toFixed(2)} m straight ahead`)
    t.ok(Math.abs(to.position[1] - from.position[1]) < 0.01, 'at the same height')
    await bob.waitForHeadNear(aliceId, to.position, 0.01)
    t.pass('Bob sees her walk')
  })

  await t.test('Exit VR keeps the place and the facing', async t => {
    await headset.head([0.3, 1.6, 0.2], -0.7)
    const last = await headset.camera()
    await headset.exit()
    const desk = await alice.cameraPosition()
    t.ok(flat(desk, last.position) < 0.01, `back on the desktop where the headset was (${JSON.stringify(desk)})`)
    const yaw = await alice.page.evaluate(() => window.xr.camera!.rotation.y)
    t.ok(angleBetween(yaw, last.yaw) < YAW_TOLERANCE, 'facing where the headset faced')
    await bob.waitForHeadNear(aliceId, desk, 0.01)
    t.pass('Bob sees her stay put')
    t.same(alice.errors, [], 'no errors in Alice\'s page')
    t.same(bob.errors.filter(e => !e.includes(bobId)), [], 'no errors in Bob\'s page')
  })
})
