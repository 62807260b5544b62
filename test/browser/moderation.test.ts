// The room page's moderation in real headless Chromium against the whole app: the owner sees
// the badges and buttons, kicks a second visitor from the people list, and the kicked page says
// why and until when; coming back is refused while the ban runs.
import t from 'tap'
import { buildApp } from '../../src/app.ts'
import { buildClient, isClientBundleStale } from '../../src/scripts/build-client.ts'
import { testDatabase } from '../helpers/database.ts'
import { chromiumMissing, launchChromium, newVisitor, NO_WEBGL_ARGS, screenshot } from './fixtures/browser.ts'
import { RoomPage } from './fixtures/room-page.ts'

const SECRET = 'browser-test-secret-key-base-0123456789abcdef'
const WAIT_MS = 15_000

const missing = chromiumMissing()
if (missing) console.log(`# skipping browser tests: ${missing}`)

t.test('the owner kicks a visitor from the people list', { skip: missing ?? false }, async t => {
  if (isClientBundleStale()) await buildClient()
  const app = await buildApp({ database: await testDatabase(t), logger: false, config: { secretKeyBase: SECRET } })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
  const baseURL = `http://127.0.0.1:${address.port}`
  const room = await app.rooms.createRoom({ name: 'Moderated room' })
  const roomPath = `/rooms/${room.id}`

  // Without WebGL: the people list and chat are what this test looks at, and it is lighter.
  const browser = await launchChromium(NO_WEBGL_ARGS)
  t.teardown(() => browser.close())
  const visitor = async (): Promise<RoomPage> => {
    const context = await newVisitor(browser, baseURL)
    context.setDefaultTimeout(WAIT_MS)
    return await RoomPage.open(context, roomPath)
  }

  const owner = await visitor()
  await owner.setName('Olivia')
  const ownerId = await owner.userId()
  // Until the web side sets owners on creation, the owner is stored here and announced as an edit would be.
  await app.db.prisma.room.update({ where: { id: room.id }, data: { ownerId } })
  await app.roomDirectory.announce({ type: 'room_updated', room: { id: room.id, name: room.name, description: room.description, persistent: room.persistent } })
  await owner.page.locator('#people li.self .person-role', { hasText: 'owner' }).waitFor()

  const guest = await visitor()
  await guest.setName('Gus')
  const guestId = await guest.userId()
  await guest.say('hello everyone')
  await owner.waitForPeople(['Olivia', 'Gus'])
  await guest.waitForPeople(['Olivia', 'Gus'])

  const guestRow = owner.page.locator(`#people li[data-user-id="${guestId}"]`)
  t.same(await guestRow.locator('button.person-action').allTextContents(), ['Kick', 'Mute chat', 'Unmute', 'Make moderator'], 'the owner gets every action on a member')
  t.equal(await guest.page.locator('#people button.person-action').count(), 0, 'a member gets none')
  t.equal(await guest.page.locator(`#people li[data-user-id="${ownerId}"] .person-role`).textContent(), 'owner', 'the guest sees the owner badge')
  await owner.waitForMessage('hello everyone')
  t.ok(await owner.page.locator('#messages li .chat-delete').first().isVisible(), 'the owner sees delete buttons on chat')
  t.notOk(await guest.page.locator('#messages li .chat-delete').first().isVisible(), 'the guest does not')
  t.comment(`screenshot ${await screenshot(owner.page, 'moderation-owner-before-kick.png')}`)

  await guestRow.locator('button[data-action="kick"]').click()
  const notice = guest.page.locator('#room-notice')
  await notice.waitFor({ state: 'visible' })
  t.match(await notice.textContent(), /removed from this room by Olivia\. You may come back after \d{1,2}:\d{2}/, 'the kicked page says who and until when')
  t.equal(await notice.getAttribute('data-reason'), 'kicked')
  await owner.waitForPeople(['Olivia'])
  t.equal(await guest.page.evaluate(() => window.xr.socketConnected()), false, 'the guest\'s channel is closed')
  t.comment(`screenshot ${await screenshot(guest.page, 'moderation-guest-kicked.png')}`)
  t.comment(`screenshot ${await screenshot(owner.page, 'moderation-owner-after-kick.png')}`)

  await guest.page.reload()
  await guest.page.locator('#room-notice[data-reason="banned"]').waitFor()
  t.match(await guest.page.locator('#room-notice').textContent(), /may come back after/, 'coming back is refused while banned')
  t.comment(`screenshot ${await screenshot(guest.page, 'moderation-guest-banned.png')}`)
  t.same([...owner.errors, ...guest.errors], [], 'no page errors')
})
