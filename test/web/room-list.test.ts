import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { databaseKind } from '../helpers/database.ts'
import { ownedRoom, Visitor, webApp } from './fixtures/helpers.ts'
import { SseClient } from './fixtures/sse-client.ts'
import type { AddressInfo } from 'node:net'

t.comment(`database: ${databaseKind()}`)

const cardIds = (html: string): string[] => [...html.matchAll(/<li class="room-card" data-room-id="([^"]+)">/g)].map((m) => m[1]!)

async function manyRooms (app: FastifyInstance, count: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < count; i++) ids.push((await app.rooms.createRoom({ name: `Room ${String(i).padStart(2, '0')}` }, {})).id)
  return ids
}

t.test('the room list: 24 a page, occupied rooms first, then newest first', async (t) => {
  const app = await webApp(t)
  const ids = await manyRooms(app, 30)
  app.roomDirectory.setOccupancy(ids[3]!, 2)
  app.roomDirectory.setOccupancy(ids[7]!, 5)

  const first = await app.inject({ url: '/rooms' })
  const shown = cardIds(first.body)
  t.equal(shown.length, 24)
  t.same(shown.slice(0, 2), [ids[7], ids[3]], 'most people first')
  t.same(shown.slice(2, 5), [ids[29], ids[28], ids[27]], 'then the newest')
  t.match(first.body, 'Page 1 of 2')
  t.match(first.body, 'rel="next" href="/rooms?page=2"')
  t.notMatch(first.body, 'rel="prev"')

  const second = await app.inject({ url: '/rooms?page=2' })
  const rest = cardIds(second.body)
  t.equal(rest.length, 6)
  t.same(new Set([...shown, ...rest]).size, 30, 'every room exactly once over the pages')
  t.match(second.body, 'rel="prev" href="/rooms?page=1"')
  t.equal(cardIds((await app.inject({ url: '/rooms?page=9' })).body).length, 0, 'past the end: no cards')
  for (const page of ['abc', '-1', '0', '1e9', '']) t.equal((await app.inject({ url: `/rooms?page=${page}` })).statusCode, 200, `page=${page} is page 1`)
})

t.test('search: case-insensitive substring of the name, bounded, wildcards literal', async (t) => {
  const app = await webApp(t)
  const atrium = await app.rooms.createRoom({ name: 'Grand Atrium' }, {})
  const deal = await app.rooms.createRoom({ name: '50% off_sale' }, {})
  await app.rooms.createRoom({ name: 'Cellar' }, {})
  t.same(cardIds((await app.inject({ url: '/rooms?q=ATRI' })).body), [atrium.id])
  t.same(cardIds((await app.inject({ url: `/rooms?q=${encodeURIComponent('%')}` })).body), [deal.id], '% is a character, not a wildcard')
  t.same(cardIds((await app.inject({ url: '/rooms?q=_' })).body), [deal.id])
  const none = await app.inject({ url: '/rooms?q=zzz' })
  t.same(cardIds(none.body), [])
  t.match(none.body, 'No room has “zzz” in its name.')
  const long = await app.inject({ url: `/rooms?q=${'a'.repeat(5000)}` })
  t.equal(long.statusCode, 200, 'a long search is cut, not an error')
  const escaped = await app.inject({ url: `/rooms?q=${encodeURIComponent('"><script>')}` })
  t.notMatch(escaped.body, '"><script>', 'the search is escaped where it is shown')
})

t.test('unlisted rooms: not on /rooms nor its live list, but open to the link', async (t) => {
  const app = await webApp(t, { sseHeartbeatMs: 60_000 })
  const owner = new Visitor(app)
  // Through the form, which announces the room as the live list needs.
  await owner.post('/rooms', { name: 'Secret', capacity: '24', visibility: 'unlisted' })
  await owner.post('/rooms', { name: 'Open', capacity: '24', visibility: 'public' })
  const byName = new Map((await app.rooms.listRooms()).map((room) => [room.name, room]))
  const hidden = byName.get('Secret')!
  const open = byName.get('Open')!
  t.same(cardIds((await app.inject({ url: '/rooms' })).body), [open.id])
  t.same(cardIds((await app.inject({ url: '/rooms?q=Secret' })).body), [], 'nor found by search')
  t.equal((await new Visitor(app).get(`/rooms/${hidden.id}`)).statusCode, 200, 'anyone with the link may enter')

  await app.listen({ port: 0, host: '127.0.0.1' })
  const client = await SseClient.open(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/rooms/events`)
  t.teardown(() => client.close())
  const snapshot = await client.nextEvent()
  t.same((snapshot?.data as { rooms: Array<{ id: string }> }).rooms.map((room) => room.id), [open.id])

  app.roomDirectory.setOccupancy(hidden.id, 2)
  await owner.post(`/rooms/${hidden.id}`, { name: 'Secret 2', capacity: '24', visibility: 'unlisted' })
  const secretCreated = await owner.post('/rooms', { name: 'Another secret', capacity: '24', visibility: 'unlisted' })
  t.equal(secretCreated.statusCode, 303)
  await owner.post(`/rooms/${open.id}`, { name: 'Open', capacity: '24', visibility: 'unlisted' })
  t.same(await client.nextEvent(), { event: 'room_deleted', data: { type: 'room_deleted', room_id: open.id } },
    'nothing about unlisted rooms; a room turned unlisted goes away')
  await owner.post(`/rooms/${hidden.id}`, { name: 'Now public', capacity: '24', visibility: 'public' })
  const shown = await client.nextEvent()
  t.match(shown, { event: 'room_updated', data: { room: { id: hidden.id, name: 'Now public', visibility: 'public' } } }, 'a room turned public appears')
  app.roomDirectory.setOccupancy(hidden.id, 3)
  t.same(await client.nextEvent(), { event: 'occupancy', data: { type: 'occupancy', room_id: hidden.id, count: 3 } })
})

t.test('room settings: validated per field, saved, and announced to the realtime side', async (t) => {
  const app = await webApp(t)
  const owner = new Visitor(app)
  const room = await ownedRoom(app, owner, { name: 'Club' })
  const form = await owner.get(`/rooms/${room.id}/edit`)
  t.match(form.body, '<input id="room-capacity" name="capacity" type="number" min="1" max="100" value="24"')
  t.match(form.body, '<option value="public" selected>')
  t.match(form.body, 'name="allow_grab" value="true" checked')
  t.match(form.body, 'name="allow_chat" value="true" checked')
  t.notMatch(form.body, 'name="locked" value="true" checked', 'not locked by default')

  const bad = await owner.post(`/rooms/${room.id}`, { name: 'Club', capacity: '101', visibility: 'secret' })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, 'Capacity must be a whole number from 1 to 100')
  t.match(bad.body, 'Visibility must be public or unlisted')
  for (const capacity of ['0', 'abc', '2.5', '']) {
    const res = await owner.post(`/rooms/${room.id}`, { name: 'Club', capacity, visibility: 'public' })
    t.equal(res.statusCode, capacity === '' ? 303 : 422, `capacity "${capacity}"`)
  }

  const seen: unknown[] = []
  app.roomDirectory.subscribe((event) => { if (event.type === 'room_updated') seen.push(event.room) })
  const saved = await owner.post(`/rooms/${room.id}`, { name: 'Club', capacity: '8', visibility: 'unlisted', locked: 'true', allow_chat: 'true' })
  t.equal(saved.statusCode, 303)
  const stored = await app.rooms.getRoom(room.id)
  t.match(stored, { capacity: 8, visibility: 'unlisted', locked: true, allowGrab: false, allowChat: true })
  t.same(seen, [{ id: room.id, name: 'Club', description: '', persistent: false, visibility: 'unlisted', capacity: 8, locked: true, allow_grab: false, allow_chat: true }],
    'room_updated carries the settings, unlisted rooms included')
})
