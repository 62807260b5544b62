// Voice chat in real headless Chromium with fake microphones (a beeping tone): three visitors
// join voice and hear each other over WebRTC, one mutes, one leaves, one walks and its voice
// follows its avatar; a fourth finds voice full. Read through window.__xrVoice (src/client/voice/setup.ts).
import t from 'tap'
import { buildApp } from '../../src/app.ts'
import { buildClient, isClientBundleStale } from '../../src/scripts/build-client.ts'
import { databaseKind, testDatabase } from '../helpers/database.ts'
import { chromiumMissing, launchChromium, newVisitor, screenshot } from './fixtures/browser.ts'
import { distance, RoomPage, type Vec3 } from './fixtures/room-page.ts'

const SECRET = 'browser-voice-secret-key-base-0123456789abcdef'
const WAIT_MS = 20_000
const FAKE_MEDIA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']

// Three pages rendering WebGL in software and decoding audio take more than tap's default 120 s.
t.setTimeout(360_000)

const missing = chromiumMissing()
if (missing) console.log(`# skipping browser voice tests: ${missing}`)

type Inbound = { bytesReceived: number, totalAudioEnergy: number }

t.test('voice chat between three pages', { skip: missing ?? false }, async t => {
  if (isClientBundleStale()) await buildClient()
  const database = await testDatabase(t)
  const app = await buildApp({ database, logger: false, config: { secretKeyBase: SECRET, voiceMaxPeers: 3 } })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
  const baseURL = `http://127.0.0.1:${address.port}`
  const room = await app.rooms.createRoom({ name: 'Voice room' })
  t.comment(`app at ${baseURL} on ${databaseKind()}`)

  const browser = await launchChromium(FAKE_MEDIA)
  t.teardown(() => browser.close())
  const open = async (): Promise<RoomPage> => {
    const context = await newVisitor(browser, baseURL)
    context.setDefaultTimeout(WAIT_MS)
    // Each page renders its 3D view in software: on a busy machine the fourth loads slowly.
    context.setDefaultNavigationTimeout(3 * WAIT_MS)
    return await RoomPage.open(context, `/rooms/${room.id}`)
  }
  const pages = [await open(), await open(), await open()]
  const [alice, bob, carol] = pages as [RoomPage, RoomPage, RoomPage]
  const ids = await Promise.all(pages.map(p => p.userId()))
  const [aliceId, bobId, carolId] = ids as [string, string, string]
  const inbound = async (page: RoomPage, from: string): Promise<Inbound | null> => await page.page.evaluate(id => window.__xrVoice!.inbound(id), from)
  /** Waits until the inbound audio of `page` from `from` grows past `after` by `bytes` (polled, as waitForFunction would). */
  const receivedMore = async (page: RoomPage, from: string, after: Inbound, bytes: number): Promise<Inbound> => {
    for (let polls = 0; polls < WAIT_MS / 200; polls++) {
      const now = await inbound(page, from)
      if (now !== null && now.bytesReceived >= after.bytesReceived + bytes) return now
      await page.page.waitForTimeout(200)
    }
    throw new Error(`no ${bytes} more bytes of audio from ${from}`)
  }

  await t.test('the microphone is asked for only on a click; three pages join voice', async t => {
    t.equal(await alice.page.evaluate(() => window.__xrVoice!.status()), 'off', 'voice is off until clicked')
    t.equal(await alice.page.locator('#voice-join').textContent(), 'Join voice')
    for (const page of pages) await page.page.locator('#voice-join').click()
    for (const page of pages) {
      await page.page.waitForFunction(() => window.__xrVoice!.status() === 'on')
      await page.page.waitForFunction(() => window.__xrVoice!.peers().filter(p => p.connectionState === 'connected').length === 2, undefined, { polling: 200 })
    }
    t.equal(await alice.page.locator('#voice-join').textContent(), 'Leave voice')
    t.ok(await alice.page.locator('#voice-mute').isVisible(), 'a Mute button')
    t.equal(await alice.page.locator('#people .person-voice').count(), 3, 'the people list shows everyone in voice')
    t.pass('every page has a connected peer connection to each of the two others')
  })

  await t.test('each page receives audio from both others', async t => {
    for (const [page, others] of [[alice, [bobId, carolId]], [bob, [aliceId, carolId]], [carol, [aliceId, bobId]]] as const) {
      for (const other of others) {
        const first = (await inbound(page, other))!
        const later = await receivedMore(page, other, first, 2000)
        t.ok(later.bytesReceived > first.bytesReceived, `bytesReceived from ${other} grows`)
        t.ok(later.totalAudioEnergy > 0, 'with audio energy')
      }
    }
    await alice.page.waitForFunction(() => window.__xrVoice!.speaking().length > 0, undefined, { polling: 50 })
    t.pass('the beeps show as speaking')
    await screenshot(alice.page, 'voice-three-pages.png')
  })

  await t.test('muting one (the M key) lowers what the others receive from it to silence', async t => {
    await carol.page.locator('#room-canvas').focus()
    await carol.page.keyboard.press('m')
    await carol.page.waitForFunction(() => window.__xrVoice!.muted())
    t.equal(await carol.page.locator('#voice-mute').textContent(), 'Unmute')
    await alice.page.waitForFunction(id => document.querySelector(`#people li[data-user-id="${id}"] .person-muted`) !== null, carolId)
    t.pass('alice sees carol muted')
    // Let what was in flight before the mute arrive, then compare two stretches of traffic.
    const start = await receivedMore(alice, carolId, (await inbound(alice, carolId))!, 1000)
    const startBob = (await inbound(alice, bobId))!
    const endBob = await receivedMore(alice, bobId, startBob, 4000)
    const end = (await inbound(alice, carolId))!
    const fromBob = endBob.totalAudioEnergy - startBob.totalAudioEnergy
    const fromCarol = end.totalAudioEnergy - start.totalAudioEnergy
    t.comment(`energy received meanwhile: from bob ${fromBob.toExponential(2)}, from muted carol ${fromCarol.toExponential(2)}`)
    t.ok(fromBob > 0, 'bob still heard')
    t.ok(fromCarol < fromBob / 100, 'carol is silent')
    await carol.page.keyboard.press('m')
    await carol.page.waitForFunction(() => !window.__xrVoice!.muted())
  })

  await t.test('a voice follows its avatar: the panner moves with bob', async t => {
    const before = await alice.page.evaluate(id => window.__xrVoice!.pannerPosition(id), bobId)
    t.ok(before, 'alice has a panner for bob')
    const start = await bob.cameraPosition()
    await bob.holdKey('w', () => bob.page.waitForFunction(([x, , z]) => {
      const p = window.xr.camera!.position
      return Math.hypot(p.x - x, p.z - z) > 1.5
    }, start))
    const head = await bob.waitForCameraAtRest()
    await alice.waitForHeadNear(bobId, head, 0.01)
    await alice.page.waitForFunction(([id, [x, y, z]]) => {
      const p = window.__xrVoice!.pannerPosition(id)
      return p !== null && Math.hypot(p[0] - x, p[1] - y, p[2] + z) < 0.01
    }, [bobId, head] as const)
    const after = (await alice.page.evaluate(id => window.__xrVoice!.pannerPosition(id), bobId))!
    t.ok(distance(after, before as Vec3) > 1.5, 'the panner moved with bob\'s head')
    const listener = (await alice.page.evaluate(() => window.__xrVoice!.listenerPosition()))!
    const camera = await alice.cameraPosition()
    t.ok(distance(listener, [camera[0], camera[1], -camera[2]]) < 0.01, 'the listener is at alice\'s camera')
  })

  await t.test('voice is full for a fourth, and the page says so', async t => {
    const dave = await open()
    await dave.page.locator('#voice-join').click()
    await dave.page.locator('#voice-message', { hasText: 'Voice is full' }).waitFor()
    t.equal(await dave.page.evaluate(() => window.__xrVoice!.status()), 'off')
    await screenshot(dave.page, 'voice-full.png')
    await dave.page.close()
  })

  await t.test('leaving voice closes its connections on the others\' side', async t => {
    await carol.page.locator('#voice-join').click()
    await carol.page.waitForFunction(() => window.__xrVoice!.status() === 'off' && window.__xrVoice!.peers().length === 0)
    for (const page of [alice, bob]) {
      await page.page.waitForFunction(id => !window.__xrVoice!.peers().some(p => p.userId === id), carolId)
      t.same((await page.page.evaluate(() => window.__xrVoice!.peers())).map(p => p.connectionState), ['connected'], 'one connection left')
    }
  })

  await t.test('after the socket reconnects, voice resumes without a click', async t => {
    const before = await alice.page.evaluate(() => window.__xrVoice!.peers()[0]!.session)
    // Every socket of bob's on the server, dropped as a network failure would.
    const bobSockets = [...app.phoenix.sockets].filter(s => s.userId === bobId)
    t.ok(bobSockets.length > 0, 'found bob\'s socket')
    for (const socket of bobSockets) await socket.close(1011, 'test drops the connection')
    await alice.page.waitForFunction(([id, old]) => window.__xrVoice!.peers().some(p => p.userId === id && p.session !== old && p.connectionState === 'connected'), [bobId, before] as const, { polling: 200 })
    const first = (await inbound(alice, bobId))!
    await receivedMore(alice, bobId, first, 1000)
    t.pass('alice hears bob again on a new connection')
    t.equal(await bob.page.evaluate(() => window.__xrVoice!.status()), 'on')
  })

  for (const page of pages) t.same(page.errors, [], 'no page errors')
})
