// A visitor whose network refuses WebSockets: the room page falls back to long polling
// (phoenix.js's longPollFallbackMs) and is in the room like anyone else.
import t from 'tap'
import { buildApp } from '../../src/app.ts'
import { buildClient, isClientBundleStale } from '../../src/scripts/build-client.ts'
import { testDatabase } from '../helpers/database.ts'
import { chromiumMissing, launchChromium, newVisitor, screenshot } from './fixtures/browser.ts'
import { RoomPage } from './fixtures/room-page.ts'

const SECRET = 'browser-test-secret-key-base-0123456789abcdef'
// Generous: the fallback itself waits 2.5 s, and software WebGL on a shared machine is slow.
const WAIT_MS = 40_000

const missing = chromiumMissing()
if (missing) console.log(`# skipping browser tests: ${missing}`)

t.test('the room page over LongPoll when WebSockets are refused', { skip: missing ?? false }, async t => {
  if (isClientBundleStale()) await buildClient()
  const app = await buildApp({ database: await testDatabase(t), logger: false, config: { secretKeyBase: SECRET } })
  t.teardown(() => app.close())
  const room = await app.rooms.createRoom({ name: 'Behind a proxy' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
  const baseURL = `http://127.0.0.1:${address.port}`
  const browser = await launchChromium()
  t.teardown(() => browser.close())

  const aliceContext = await newVisitor(browser, baseURL)
  aliceContext.setDefaultTimeout(WAIT_MS)
  const alice = await RoomPage.open(aliceContext, `/rooms/${room.id}`)
  await alice.setName('Alice')

  // Bob's network: every WebSocket is closed before it opens, as a blocking proxy does.
  const bobContext = await newVisitor(browser, baseURL)
  bobContext.setDefaultTimeout(WAIT_MS)
  let refused = 0
  await bobContext.routeWebSocket(/\/socket\/websocket/, ws => { refused++; void ws.close() })
  let polls = 0
  const sessions = new Set<string>()
  bobContext.on('request', request => {
    const url = new URL(request.url())
    if (url.pathname !== '/socket/longpoll') return
    polls++
    const token = url.searchParams.get('token')
    if (token) sessions.add(token)
  })
  const bob = await RoomPage.open(bobContext, `/rooms/${room.id}`)
  const bobId = await bob.userId()
  t.ok(refused >= 1, `the WebSocket was refused (${refused}×)`)
  t.ok(polls >= 2, `and the page long-polls instead (${polls} requests so far)`)
  await bob.setName('Bob')

  t.same((await alice.waitForPeople(['Alice', 'Bob'])).find(p => p.id === bobId), { id: bobId, name: 'Bob', self: false }, 'Alice sees Bob in presence')
  await bob.waitForPeople(['Alice', 'Bob'])

  await bob.waitForCameraAtRest()
  await bob.teleport(2, -1, [0, 1, -4])
  const there = await bob.waitForCameraAtRest()
  const seen = await alice.waitForHeadNear(bobId, there, 0.01)
  t.ok(Math.abs(seen[0] - 2) < 0.01 && Math.abs(seen[2] + 1) < 0.01, 'Bob\'s move reached Alice over the WebSocket')

  await bob.say('hello from behind the proxy')
  const line = await alice.waitForMessage('hello from behind the proxy')
  t.same(line, { userId: bobId, name: 'Bob', content: 'hello from behind the proxy' }, 'Bob\'s chat reached Alice')
  await alice.say('hello back')
  await bob.waitForMessage('hello back')
  t.pass('and hers reached Bob')

  t.ok(sessions.size <= 3, `one session per connection (${sessions.size}: the first, the one after the name change, maybe a timed out one)`)
  await screenshot(bob.page, 'longpoll-bob.png')
  await screenshot(alice.page, 'longpoll-alice-sees-bob.png')
  t.same(bob.errors.filter(e => !e.includes('WebSocket')), [], 'no page errors at Bob besides the refused WebSocket')
  t.same(alice.errors, [], 'no page errors at Alice')
})
