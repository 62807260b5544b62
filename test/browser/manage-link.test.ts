// Room ownership in real headless Chromium: the manage link shown after creation makes a second
// browser the owner (the edit form opens there, and the room sees the owner), a third browser
// without it gets 403; hostile display names show literally and run nothing.
import t from 'tap'
import type { BrowserContext } from 'playwright-core'
import { buildApp } from '../../src/app.ts'
import { buildClient, isClientBundleStale } from '../../src/scripts/build-client.ts'
import { databaseKind, testDatabase } from '../helpers/database.ts'
import { chromiumMissing, launchChromium, newVisitor, screenshot } from './fixtures/browser.ts'
import { RoomPage } from './fixtures/room-page.ts'

const SECRET = 'browser-test-secret-key-base-0123456789abcdef'
const WAIT_MS = 60_000
// Three names, each a page reload with a software-rendered scene: more than tap's default 120 s.
t.setTimeout(300_000)

const missing = chromiumMissing()
if (missing) console.log(`# skipping browser tests: ${missing}`)

t.test('manage link and hostile names in headless Chromium', { skip: missing ?? false }, async t => {
  if (isClientBundleStale()) await buildClient()
  const app = await buildApp({ database: await testDatabase(t), logger: false, config: { secretKeyBase: SECRET } })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
  const baseURL = `http://127.0.0.1:${address.port}`
  t.comment(`app at ${baseURL} on ${databaseKind()}`)
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const visitor = async (): Promise<BrowserContext> => {
    const context = await newVisitor(browser, baseURL)
    context.setDefaultTimeout(WAIT_MS)
    return context
  }

  const ownerContext = await visitor()
  const page = await ownerContext.newPage()
  await page.goto('/rooms/new')
  await page.locator('#room-name').fill('Owned room')
  await Promise.all([page.waitForURL(/\/rooms\/[^/]+$/), page.locator('form.form button[type=submit]').click()])
  const roomPath = new URL(page.url()).pathname
  const link = await page.locator('#manage-link').inputValue()
  t.match(link, new RegExp(`^${baseURL}/rooms/[\\w-]+/manage/[\\w-]{43}$`), 'the manage link is shown after creation')
  await screenshot(page, 'manage-link-owner.png')
  const owner = await RoomPage.adopt(page, [])

  await t.test('the manage link makes a second browser the owner', async t => {
    const laptop = await (await visitor()).newPage()
    await laptop.goto(link)
    t.equal(new URL(laptop.url()).pathname, roomPath, 'back on the room page')
    t.match(await laptop.locator('.flash').textContent(), 'This browser now manages “Owned room”.')
    t.equal(await laptop.locator('meta[name="room-role"]').getAttribute('content'), 'owner')
    t.equal(await laptop.locator('meta[name="user-id"]').getAttribute('content'), await owner.userId(), 'the socket token names the owner')
    const edit = await laptop.goto(`${roomPath}/edit`)
    t.equal(edit?.status(), 200)
    t.equal(await laptop.locator('#room-name').inputValue(), 'Owned room', 'the edit form opens')
    await screenshot(laptop, 'manage-link-second-browser-edit.png')

    const stranger = await (await visitor()).newPage()
    await stranger.goto(roomPath)
    t.equal(await stranger.locator(`a[href="${roomPath}/edit"]`).count(), 0, 'no edit link for a stranger')
    const refused = await stranger.goto(`${roomPath}/edit`)
    t.equal(refused?.status(), 403)
    t.equal(await stranger.locator('h1').textContent(), 'Not your room')
    await screenshot(stranger, 'manage-link-stranger-403.png')
    // Out of the room, so the people list below is only the owner, the watcher and the guest.
    await laptop.context().close()
    await stranger.context().close()
  })

  await t.test('hostile display names show literally and run nothing', async t => {
    const hostile = '"><img src=x onerror=alert(1)>'
    const bidi = '\u202Eevil.exe'
    const emoji = '😀'.repeat(32)
    const dialogs: string[] = []
    const watcher = await RoomPage.open(await visitor(), roomPath)
    for (const p of [watcher.page, owner.page]) p.on('dialog', async (dialog) => { dialogs.push(dialog.message()); await dialog.dismiss() })
    const guest = await RoomPage.open(await visitor(), roomPath)
    guest.page.on('dialog', async (dialog) => { dialogs.push(dialog.message()); await dialog.dismiss() })
    for (const name of [hostile, bidi, emoji]) {
      await guest.setName(name)
      await watcher.waitForPeople(['anon', 'anon', name])
      await guest.say(`hello from ${name}`)
      await watcher.waitForMessage(`hello from ${name}`)
      t.ok((await watcher.people()).some((person) => person.name === name), `${JSON.stringify(name)} in the people list, literally`)
      if (name === hostile) await screenshot(watcher.page, 'hostile-name-people-and-chat.png')
    }
    await screenshot(watcher.page, 'hostile-name-emoji.png')
    const images = await watcher.page.locator('#people img, #messages img').count()
    t.equal(images, 0, 'no element made from a name')
    t.same(dialogs, [], 'no script ran')
  })
})
