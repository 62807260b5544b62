// The room page end to end in real headless Chromium against the whole app (buildApp):
// a room made through the form, two visitors with their own sessions who see each other,
// walk, chat and pass things around, the live room list, and the page without WebGL.
import t from 'tap'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { buildApp } from '../../src/app.ts'
import { buildClient, isClientBundleStale } from '../../src/scripts/build-client.ts'
import { databaseKind, testDatabase } from '../helpers/database.ts'
import { chromiumMissing, collectErrors, colourfulness, launchChromium, newVisitor, NO_WEBGL_ARGS, screenshot, type Colourfulness } from './fixtures/browser.ts'
import { distance, RoomPage, type Vec3 } from './fixtures/room-page.ts'
import { boxes, viewpoint } from './fixtures/world.ts'

const SECRET = 'browser-test-secret-key-base-0123456789abcdef'
/** Every wait for a condition gives up after this long (Playwright's own default is 30 s). */
const WAIT_MS = 10_000

const describe = ({ lit, colors }: Colourfulness): string => `${Math.round(lit * 100)}% lit, ${colors} colours`

const missing = chromiumMissing()
if (missing) console.log(`# skipping browser tests: ${missing}`)

t.test('the room page in headless Chromium', { skip: missing ?? false }, async t => {
  if (isClientBundleStale()) await buildClient()
  const database = await testDatabase(t)
  const app = await buildApp({ database, logger: false, config: { secretKeyBase: SECRET } })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
  const baseURL = `http://127.0.0.1:${address.port}`
  t.comment(`app at ${baseURL} on ${databaseKind()}`)

  const browser = await launchChromium()
  t.teardown(() => browser.close())
  /** A new visitor: a browser context of its own, so its own session cookie and user id. */
  const visitor = async (b: Browser = browser): Promise<BrowserContext> => {
    const context = await newVisitor(b, baseURL)
    context.setDefaultTimeout(WAIT_MS)
    return context
  }

  const roomName = 'Browser test <room> & co'
  let roomPath = ''
  let roomId = ''
  let alice: RoomPage
  let bob: RoomPage
  let aliceId = ''
  let bobId = ''
  let listPage: Page
  let listErrors: string[] = []

  await t.test('a room is created through the form and opened', async t => {
    const page = await (await visitor()).newPage()
    const errors = collectErrors(page)
    await page.goto('/rooms/new')
    await page.locator('#room-name').fill(roomName)
    await page.locator('#room-description').fill('Made by the browser test.')
    await Promise.all([
      page.waitForURL(/\/rooms\/[^/]+$/),
      page.locator('form.form button[type=submit]').click()
    ])
    roomPath = new URL(page.url()).pathname
    alice = await RoomPage.adopt(page, errors)
    roomId = await alice.meta('room-id')
    aliceId = await alice.userId()
    t.equal(roomPath, `/rooms/${roomId}`, 'redirected to the new room')
    t.match(await page.locator('.flash').textContent(), 'created', 'flash says the room was created')
    t.equal(await page.locator('.room-panel h1').textContent(), roomName, 'name shown as text')
    t.ok(await alice.meta('user-token'), 'page carries a socket token')
    t.equal(await page.locator('#connection-status').getAttribute('data-state'), 'connected')
    t.ok(await page.locator('#webgl-error').isHidden(), 'no WebGL warning with WebGL')
    const entities = await alice.entities()
    t.ok(Object.values(entities).filter(c => c.holdable === true).length >= 1, 'the new world has holdables')
    t.ok(entities[aliceId]?.avatar, 'own avatar entity in the state')
  })

  await t.test('the room list is live: occupancy over SSE', async t => {
    listPage = await (await visitor()).newPage()
    listErrors = collectErrors(listPage)
    await listPage.goto('/rooms')
    const card = listPage.locator(`.room-card[data-room-id="${roomId}"]`)
    t.equal(await card.locator('[data-field=name]').textContent(), roomName, 'the room is listed, escaped')
    await listPage.waitForFunction((id) => document.querySelector(`.room-card[data-room-id="${id}"] [data-field=occupancy]`)?.textContent === '1', roomId)
    t.pass('shows 1 online (Alice)')
  })

  await t.test('two visitors with their own names see each other', async t => {
    await alice.setName('Alice')
    bob = await RoomPage.open(await visitor(), roomPath)
    bobId = await bob.userId()
    t.not(bobId, aliceId, 'separate sessions, separate user ids')
    await bob.setName('Bob')
    const seenByBob = await bob.waitForPeople(['Alice', 'Bob'])
    const seenByAlice = await alice.waitForPeople(['Alice', 'Bob'])
    t.same(seenByAlice, [
      { id: aliceId, name: 'Alice', self: true },
      { id: bobId, name: 'Bob', self: false }
    ], 'Alice sees Bob')
    t.same(seenByBob, [
      { id: aliceId, name: 'Alice', self: false },
      { id: bobId, name: 'Bob', self: true }
    ], 'Bob sees Alice')
    await listPage.waitForFunction((id) => document.querySelector(`.room-card[data-room-id="${id}"] [data-field=occupancy]`)?.textContent === '2', roomId)
    t.pass('the room list, never reloaded, now shows 2 online')
    // Bob's scene draws Alice's avatar (its entity carries her name), and not his own.
    await bob.page.waitForFunction((id) => window.xr.scene!.getMeshByName(`avatar-skull:${id}`) !== null, aliceId)
    t.equal(await bob.page.evaluate((id) => window.xr.scene!.getMeshByName(`avatar-skull:${id}`) !== null, bobId), false, 'own avatar not drawn')
    await bob.page.waitForFunction((id) => window.xr.entities()[id]?.username === 'Alice', aliceId)
  })

  await t.test('Alice walks with the keyboard; Bob sees her avatar move', async t => {
    const start = await alice.waitForCameraAtRest()
    const before = await bob.waitForHeadNear(aliceId, start, 0.01)
    for (const key of ['w', 'ArrowRight']) {
      const from = await alice.cameraPosition()
      await alice.holdKey(key, () => alice.page.waitForFunction(
        ([x, y, z]) => {
          const p = window.xr.camera!.position
          return Math.hypot(p.x - x, p.y - y, p.z - z) > 0.6
        },
        from
      ))
    }
    const end = await alice.waitForCameraAtRest()
    t.ok(distance(start, end) > 0.6, `Alice walked ${distance(start, end).toFixed(2)} m`)
    t.ok(Math.abs(end[1] - start[1]) < 0.001, 'at the same eye height')
    const seen = await bob.waitForHeadNear(aliceId, end, 0.002)
    t.ok(distance(before, seen) > 0.6, `Bob's copy of Alice's head moved ${distance(before, seen).toFixed(2)} m`)
    // The drawn head follows the entity.
    await bob.page.waitForFunction(([id, [x, y, z]]) => {
      const node = window.xr.scene!.getTransformNodeByName(`avatar-head:${id}`)
      if (!node) return false
      const p = node.getAbsolutePosition()
      return Math.hypot(p.x - x, p.y - y, p.z - z) < 0.01
    }, [aliceId, seen] as const)
    t.pass("Alice's avatar head is drawn where she is")
  })

  await t.test('chat between the two pages', async t => {
    await alice.say('Hi Bob <b>not bold</b>')
    const atBob = await bob.waitForMessage('Hi Bob <b>not bold</b>')
    t.same(atBob, { userId: aliceId, name: 'Alice', content: 'Hi Bob <b>not bold</b>' }, 'Bob reads it, as text')
    await bob.say('Hello Alice')
    const atAlice = await alice.waitForMessage('Hello Alice')
    t.same(atAlice, { userId: bobId, name: 'Bob', content: 'Hello Alice' }, 'Alice reads the answer')
    t.equal(await alice.page.locator('#messages li').count(), 2, 'each message shown once')
    t.equal(await bob.page.locator('#messages li').count(), 2)
  })

  await t.test('Alice grabs a holdable with G; Bob sees it in her hand; she lets go', async t => {
    // Alice teleports next to a holdable, looking down at it, and Bob to where he can watch
    // her: a spot outside the room's random blocks with a clear line of sight.
    const entities = await alice.entities()
    const [aliceEye, bobEye] = [(await alice.cameraPosition())[1], (await bob.cameraPosition())[1]]
    const free = Object.entries(entities)
      .filter(([, c]) => c.holdable === true && (c.parent === undefined || c.parent === null))
      .map(([id, c]) => ({ id, position: c.position as Vec3 }))
      .sort((a, b) => Math.hypot(a.position[0], a.position[2]) - Math.hypot(b.position[0], b.position[2]))
    if (!t.ok(free.length > 0, 'there is something to pick up')) return
    let plan = { target: free[0], alice: [free[0].position[0], aliceEye, free[0].position[2] - 0.25] as Vec3, bob: null as Vec3 | null }
    for (const target of free) {
      const solid = boxes(entities, new Set([target.id]))
      const spot: Vec3 = [target.position[0], aliceEye, target.position[2] - 0.25]
      const hand: Vec3 = [spot[0], spot[1] - 1, spot[2] + 0.3]
      const bobSpot = viewpoint(spot, bobEye, [2.2, 3, 1.6], [spot, hand], solid)
      if (bobSpot) {
        plan = { target, alice: spot, bob: bobSpot }
        break
      }
    }
    if (!plan.bob) t.comment('no clear view of Alice in this random world: Bob stays put')
    await alice.teleport(plan.alice[0], plan.alice[2], plan.target.position)
    const aliceThere = await alice.waitForCameraAtRest()
    await bob.waitForHeadNear(aliceId, aliceThere, 0.002)
    if (plan.bob) await bob.teleport(plan.bob[0], plan.bob[2], [aliceThere[0], aliceThere[1] - 0.5, aliceThere[2]])

    const handle = `${aliceId}:right`
    await alice.page.locator('#room-canvas').focus()
    await alice.page.keyboard.press('g')
    const held = await alice.page.evaluate((handle) =>
      Object.entries(window.xr.entities()).find(([, c]) => c.parent === handle)?.[0] ?? null, handle)
    if (!t.ok(held !== null, 'G picked up the nearest holdable at once')) return
    await bob.page.waitForFunction(([id, handle]) => window.xr.entities()[id]?.parent === handle, [held!, handle] as const)
    t.pass(`Bob's page has parent "${handle}"`)
    await bob.page.waitForFunction(([id, userId]) =>
      window.xr.scene!.getTransformNodeByName(`entity:${id}`)?.parent?.name === `avatar-right:${userId}`, [held!, aliceId] as const)
    t.pass("and draws it in Alice's right hand")
    await bob.page.waitForFunction(([id, userId]) => {
      const right = window.xr.entities()[userId]?.right
      const root = window.xr.scene!.getTransformNodeByName(`entity:${id}`)
      if (!Array.isArray(right) || !root) return false
      const p = root.getAbsolutePosition()
      return Math.hypot(p.x - right[0], p.y - right[1], p.z - right[2]) < 0.01
    }, [held!, aliceId] as const)
    t.pass("at the right hand's pose Alice sent")

    const aliceFile = await screenshot(alice.page, 'room-alice.png')
    const aliceView = await colourfulness(alice.page, '#room-canvas')
    t.ok(aliceView.lit > 0.5 && aliceView.colors > 8, `Alice's 3D view renders (${describe(aliceView)}): ${aliceFile}`)
    const bobFile = await screenshot(bob.page, 'room-bob-sees-alice-holding.png')
    const bobView = await colourfulness(bob.page, '#room-canvas')
    t.ok(bobView.lit > 0.5 && bobView.colors > (plan.bob ? 8 : 1), `Bob's 3D view renders (${describe(bobView)}): ${bobFile}`)
    await alice.page.keyboard.press('g')
    t.equal(await alice.page.evaluate((id) => window.xr.entities()[id].parent, held!), null, 'G again lets go at once')
    await bob.page.waitForFunction((id) => window.xr.entities()[id]?.parent === null, held!)
    t.pass("Bob's page has parent null")
    await bob.page.waitForFunction((id) => window.xr.scene!.getTransformNodeByName(`entity:${id}`)?.parent === null, held!)
    t.pass("and no longer draws it in Alice's hand")
    const [here, there] = await Promise.all([alice, bob].map(p => p.page.evaluate((id) => window.xr.entities()[id].position as Vec3, held!)))
    t.ok(distance(here, there) < 0.01, `Bob sees it where Alice let go (Alice: ${JSON.stringify(here)}, Bob: ${JSON.stringify(there)})`)
  })

  await t.test('without WebGL: a clear message, chat and presence still work', async t => {
    const noGl = await launchChromium(NO_WEBGL_ARGS)
    t.teardown(() => noGl.close())
    const carol = await RoomPage.open(await visitor(noGl), roomPath)
    t.ok(await carol.page.locator('#webgl-error').isVisible(), '#webgl-error shown')
    t.match(await carol.page.locator('#webgl-error').textContent(), /WebGL is unavailable/)
    t.ok(await carol.page.locator('#room-canvas').isHidden(), 'canvas hidden')
    t.equal(await carol.page.evaluate(() => window.xr.scene), null, 'no scene')
    t.ok((await carol.entities())[aliceId]?.avatar, 'entity state still kept')
    await carol.setName('Carol')
    await carol.waitForPeople(['Alice', 'Bob', 'Carol'])
    await alice.waitForPeople(['Alice', 'Bob', 'Carol'])
    t.pass('Carol is in everyone\'s people list')
    t.ok(await carol.waitForMessage('Hello Alice'), 'chat history shown')
    await carol.say('typed without WebGL')
    t.same(await alice.waitForMessage('typed without WebGL'), { userId: await carol.userId(), name: 'Carol', content: 'typed without WebGL' }, 'Alice reads Carol')
    t.comment(`screenshot ${await screenshot(carol.page, 'room-no-webgl.png')}`)
    await carol.page.context().close()
    await alice.waitForPeople(['Alice', 'Bob'])
    t.pass('Carol leaves the people list when her page closes')
  })

  await t.test('leaving updates the list page too; no page errors', async t => {
    await bob.page.context().close()
    await alice.waitForPeople(['Alice'])
    await listPage.waitForFunction((id) => document.querySelector(`.room-card[data-room-id="${id}"] [data-field=occupancy]`)?.textContent === '1', roomId)
    t.pass('back to 1 online after Bob left')
    t.same(alice.errors, [], 'no errors in Alice\'s page')
    t.same(bob.errors, [], 'no errors in Bob\'s page')
    t.same(listErrors, [], 'no errors in the list page')
  })
})
