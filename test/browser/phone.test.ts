// The room page on a phone in real headless Chromium (a portrait touch screen at twice the
// pixel density): a finger dragged across the view turns it without scrolling the page, a tap
// on the floor walks there, and Bob, on the official phoenix client, sees the phone's head
// turn and walk. Bob renders nothing, so the phone's software-rendered page has the machine.
import t from 'tap'
import { buildApp } from '../../src/app.ts'
import { yawOf } from '../../src/client/pose.ts'
import { EYE_HEIGHT } from '../../src/shared/world.ts'
import { buildClient, isClientBundleStale } from '../../src/scripts/build-client.ts'
import { Member, SECRET, tokenFor } from '../channels/fixtures/room-server.ts'
import { testDatabase } from '../helpers/database.ts'
import { chromiumMissing, launchChromium, newPhone, screenshot } from './fixtures/browser.ts'
import { distance, RoomPage, type Vec3 } from './fixtures/room-page.ts'
import { boxes, floorAhead, openFloorView } from './fixtures/world.ts'

/** Every wait for a condition gives up after this long. */
const WAIT_MS = 15_000
/** Floor points this far ahead (metres), straight on and this far to either side (radians), are the tap targets. */
const REACH = [3.5, 5]
const SPREAD = 0.2

const missing = chromiumMissing()
if (missing) console.log(`# skipping browser tests: ${missing}`)

const flat = (a: Vec3, b: Vec3): number => Math.hypot(a[0] - b[0], a[2] - b[2])
const degrees = (radians: number): string => `${(radians * 180 / Math.PI).toFixed(1)}°`
const angleBetween = (a: number, b: number): number => Math.abs(Math.atan2(Math.sin(a - b), Math.cos(a - b)))

t.test('the room page on a phone', { skip: missing ?? false }, async t => {
  if (isClientBundleStale()) await buildClient()
  const app = await buildApp({ database: await testDatabase(t), logger: false, config: { secretKeyBase: SECRET } })
  t.teardown(() => app.close())
  const room = await app.rooms.createRoom({ name: 'Phone room' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const context = await newPhone(browser, `http://127.0.0.1:${address.port}`)
  context.setDefaultTimeout(WAIT_MS)

  const phone = await RoomPage.open(context, `/rooms/${room.id}`)
  const phoneId = await phone.userId()
  const bob = new Member(t, `ws://127.0.0.1:${address.port}/socket`, room.id, tokenFor('bob', 'Bob'))
  t.equal((await bob.join()).status, 'ok', 'Bob joins on the phoenix client')
  /** Bob's copy of the phone's head, once `ok` holds for it. */
  const bobSeesHead = async (what: string, ok: (head: number[]) => boolean): Promise<number[]> => await bob.until(what, () => {
    const head = bob.entity(phoneId)?.head
    return Array.isArray(head) && ok(head as number[]) ? head as number[] : undefined
  }, WAIT_MS)
  const positionOf = (head: number[]): Vec3 => [head[0], head[1], head[2]]
  const near = (p: Vec3) => (head: number[]): boolean => distance(positionOf(head), p) <= 0.002
  const yawOfHead = ([, , , x, y, z, w]: number[]): number => yawOf({ x, y, z, w })

  // Stand where the floor ahead is open, so a tap lands on the ground and not on a random box.
  const eyeY = (await phone.waitForCameraAtRest())[1]
  const plan = openFloorView(eyeY, REACH, SPREAD, boxes(await phone.entities()))
  if (!plan) throw new Error('no open floor within 20 m in this random world')
  const { eye, yaw } = plan
  await phone.teleport(eye[0], eye[2], [eye[0] + Math.sin(yaw), eyeY, eye[2] + Math.cos(yaw)])
  const start = await phone.waitForCameraAtRest()
  const box = (await phone.page.locator('#room-canvas').boundingBox())!
  const centre: [number, number] = [box.x + box.width / 2, box.y + box.height / 2]

  await t.test('the view fits the phone and the page could scroll', async t => {
    const layout = await phone.page.evaluate(() => ({
      width: innerWidth,
      wide: document.documentElement.scrollWidth,
      below: document.documentElement.scrollHeight - innerHeight
    }))
    t.equal(box.width, layout.width, 'the 3D view spans the screen\'s width')
    t.ok(layout.wide <= layout.width, 'nothing is wider than the screen')
    t.ok(layout.below > 0, `the panel is under the view, ${layout.below} px further down: a finger could scroll the page`)
  })

  await t.test('scrolled down to the chat, a finger on what shows of the view looks around and the page stays put', async t => {
    // The first touch on the view: focusing it must not scroll it back into sight.
    const scrolled = await phone.page.evaluate(() => { window.scrollTo(0, 300); return window.scrollY })
    const [, yaw0] = await phone.cameraRotation()
    // 100 px above the view's bottom edge, which now shows under the page's top.
    const y = box.y + box.height - scrolled - 100
    await phone.touchDrag([centre[0] - 25, y], [centre[0] + 25, y])
    await phone.waitForCameraAtRest()
    const [, yaw1] = await phone.cameraRotation()
    t.ok(yaw1 - yaw0 > 0.1, `the view turns (${degrees(yaw1 - yaw0)})`)
    t.equal(await phone.page.evaluate(() => window.scrollY), scrolled, `the page stays scrolled ${scrolled} px down`)
    await phone.page.evaluate(() => window.scrollTo(0, 0))
    await phone.teleport(eye[0], eye[2], [eye[0] + Math.sin(yaw), eyeY, eye[2] + Math.cos(yaw)])
    await phone.waitForCameraAtRest()
  })

  await t.test('a finger dragged across the view turns it; the page does not scroll; Bob sees the head turn', async t => {
    const [pitch0, yaw0] = await phone.cameraRotation()
    // Mostly up: a finger going up is one that scrolls a page down (a mostly sideways one would not scroll it).
    await phone.touchDrag([centre[0] - 15, centre[1] + 30], [centre[0] + 15, centre[1] - 30])
    await phone.waitForCameraAtRest()
    const [pitch1, yaw1] = await phone.cameraRotation()
    t.ok(yaw1 - yaw0 > 0.08, `dragged right, the view turns right as with the mouse (${degrees(yaw1 - yaw0)})`)
    t.ok(pitch0 - pitch1 > 0.15, `dragged up, it tilts up (${degrees(pitch0 - pitch1)})`)
    t.same(await phone.page.evaluate(() => ({ scrollY: window.scrollY, zoom: window.visualViewport?.scale })), { scrollY: 0, zoom: 1 },
      'the page neither scrolled nor zoomed under the finger')
    const head = await bobSeesHead('the turned head', head => angleBetween(yawOfHead(head), yaw1) < 0.01)
    t.ok(angleBetween(yawOfHead(head), yaw0) > 0.08, `Bob sees the head turn by ${degrees(angleBetween(yawOfHead(head), yaw0))}`)
    // Down past level, to look at the floor nearby.
    await phone.touchDrag([centre[0], centre[1] - 45], [centre[0], centre[1] + 45])
    await phone.waitForCameraAtRest()
    const [pitch2] = await phone.cameraRotation()
    t.ok(pitch2 - pitch0 > 0.05, `dragged down, it tilts down to the floor (${degrees(pitch2 - pitch0)} below level)`)
  })

  await t.test('a tap on the floor walks there; Bob sees the head move', async t => {
    const from = await bobSeesHead('the head before the tap', near(start))
    // The planned floor points in view after the turn: the one nearest the middle.
    const floor = REACH.flatMap(d => [-SPREAD, 0, SPREAD].map(a => floorAhead(eye, yaw + a, d)))
    let target: { point: Vec3, at: [number, number] } | null = null
    for (const [i, at] of (await phone.screenPoints(floor)).entries()) {
      if (at && (!target || Math.abs(at[0] - centre[0]) < Math.abs(target.at[0] - centre[0]))) target = { point: floor[i], at }
    }
    if (!target) throw new Error('none of the open floor is in view after the turn')
    const { point, at } = target
    await phone.page.touchscreen.tap(at[0], at[1])
    const end = await phone.waitForCameraAtRest()
    t.ok(flat(end, point) < 0.25, `walked to the floor tapped ${flat(start, point).toFixed(2)} m ahead (${flat(end, point).toFixed(2)} m off)`)
    t.ok(Math.abs(end[1] - point[1] - EYE_HEIGHT) < 0.001, `eyes ${EYE_HEIGHT} m above the floor there`)
    const moved = distance(positionOf(from), positionOf(await bobSeesHead('the head where the tap led', near(end))))
    t.ok(moved > 0.5, `Bob sees the head move ${moved.toFixed(2)} m`)
  })

  t.comment(`screenshot ${await screenshot(phone.page, 'room-phone.png')}`)
  t.same(phone.errors, [], 'no errors in the phone\'s page')
})
