import t from 'tap'
import { loadConfig } from '../../src/config.ts'
import { hashManageToken, manageTokenMatches, newManageToken } from '../../src/web/manage-link.ts'
import { canManage, roomRole } from '../../src/web/room-access.ts'
import { databaseKind } from '../helpers/database.ts'
import { verifyUserToken } from '../../src/phoenix/token.ts'
import { meta, ownedRoom, recordingLifecycle, SECRET, Visitor, webApp } from './fixtures/helpers.ts'

t.comment(`database: ${databaseKind()}`)

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789abcdef'

function verified (token: string | undefined): { admin?: true } {
  const result = verifyUserToken(SECRET, token ?? '')
  if (!result.ok) throw new Error(`the page's user token is ${result.reason}`)
  return result
}

/** Every way to manage a room, as [method, url, form]. */
const manageRequests = (id: string): Array<['GET' | 'POST', string, Record<string, string>]> => [
  ['GET', `/rooms/${id}/edit`, {}],
  ['POST', `/rooms/${id}`, { name: 'Taken over', capacity: '24', visibility: 'public' }],
  ['POST', `/rooms/${id}/reset`, {}],
  ['POST', `/rooms/${id}/manage-link`, {}],
  ['POST', `/rooms/${id}/delete`, {}]
]

async function send (visitor: Visitor, [method, url, form]: ['GET' | 'POST', string, Record<string, string>]) {
  return method === 'GET' ? await visitor.get(url) : await visitor.post(url, form)
}

t.test('roomRole and canManage', async (t) => {
  const room = { id: 'r', ownerId: 'alice' }
  t.equal(roomRole({ visitorId: 'alice', admin: false }, room), 'owner')
  t.equal(roomRole({ visitorId: 'bob', admin: true }, room), 'admin')
  t.equal(roomRole({ visitorId: 'bob', admin: false }, room), 'member')
  t.notOk(canManage({ visitorId: 'bob', admin: false }, room))
  t.notOk(canManage({ visitorId: 'bob', admin: false }, { id: 's', ownerId: null }), 'a room without owner is nobody\'s')
  t.ok(canManage({ visitorId: 'bob', admin: true }, { id: 's', ownerId: null }), 'but the admins\'')
})

t.test('a stranger gets 403 on every management route; nothing changes', async (t) => {
  const lifecycle = recordingLifecycle()
  const app = await webApp(t, { lifecycle })
  const owner = new Visitor(app)
  const created = await owner.post('/rooms', { name: 'Mine', capacity: '24', visibility: 'public', allow_grab: 'true', allow_chat: 'true' })
  t.equal(created.statusCode, 303)
  const room = (await app.rooms.listRooms())[0]!
  t.equal(room.ownerId, await owner.userId(), 'the creator owns the room')

  const stranger = new Visitor(app)
  for (const request of manageRequests(room.id)) {
    const res = await send(stranger, request)
    t.equal(res.statusCode, 403, `${request[0]} ${request[1]}`)
    t.match(res.headers['content-type'], /^text\/html/)
    t.match(res.body, '<h1>Not your room</h1>')
    t.match(res.body, 'Only the owner of this room, or an admin')
  }
  const json = await stranger.request({ method: 'POST', url: `/rooms/${room.id}/delete`, headers: { accept: 'application/json', 'content-type': 'application/json', 'x-csrf-token': stranger.csrf! }, payload: '{}' })
  t.equal(json.statusCode, 403)
  t.equal(json.json().error, 'XR_ERR_ROOM_FORBIDDEN')
  const after = await app.rooms.getRoom(room.id)
  t.equal(after?.name, 'Mine', 'not renamed, not deleted')
  t.equal(after?.manageTokenHash, room.manageTokenHash, 'the manage link was not replaced')
  t.same(lifecycle.calls.filter((call) => !call.startsWith('startRoom')), [], 'no reset, no stop')

  const page = await stranger.get(`/rooms/${room.id}`)
  t.notMatch(page.body, `/rooms/${room.id}/edit`, 'no edit link for a stranger')
  t.notMatch(page.body, `/rooms/${room.id}/reset`, 'no reset button')
  t.equal(meta(page.body, 'room-role'), 'member')
  const list = await stranger.get('/rooms')
  t.notMatch(list.body, 'data-field="edit"', 'no edit link on the cards')

  const ownPage = await owner.get(`/rooms/${room.id}`)
  t.equal(meta(ownPage.body, 'room-role'), 'owner')
  t.match(ownPage.body, `href="/rooms/${room.id}/edit"`)
  t.match((await owner.get('/rooms')).body, `data-field="edit" href="/rooms/${room.id}/edit"`)
  for (const request of manageRequests(room.id)) {
    const res = await send(owner, request)
    t.ok(res.statusCode === 200 || res.statusCode === 303, `the owner may ${request[0]} ${request[1]}`)
  }
  t.equal(await app.rooms.getRoom(room.id), null, 'the owner deleted it')
})

t.test('manage link: shown once, makes a second browser the owner; wrong or replaced links are refused', async (t) => {
  const app = await webApp(t)
  const owner = new Visitor(app)
  const created = await owner.post('/rooms', { name: 'Shared', capacity: '24', visibility: 'public' })
  const roomPath = created.headers.location as string
  const first = await owner.get(roomPath)
  const link = /<input id="manage-link" class="manage-link-url" readonly value="([^"]+)"/.exec(first.body)?.[1]
  t.ok(link, 'the manage link is on the page after creation')
  const url = new URL(link!)
  t.match(url.pathname, /^\/rooms\/[\w-]+\/manage\/[\w-]{43}$/, '256 bits, base64url')
  const room = (await app.rooms.listRooms())[0]!
  t.equal(room.manageTokenHash, hashManageToken(url.pathname.split('/').pop()!), 'only the hash is stored')
  t.notMatch((await owner.get(roomPath)).body, 'manage-link-url', 'shown once')

  const laptop = new Visitor(app)
  t.equal((await laptop.get(`/rooms/${room.id}/edit`)).statusCode, 403, 'a stranger before the link')
  const opened = await laptop.get(url.pathname)
  t.equal(opened.statusCode, 303)
  t.equal(opened.headers.location, roomPath)
  const page = await laptop.get(roomPath)
  t.match(page.body, 'This browser now manages “Shared”.')
  t.equal(meta(page.body, 'room-role'), 'owner', 'the owner on the page')
  t.equal(meta(page.body, 'user-id'), room.ownerId, 'and in the room: the socket token names the owner')
  t.equal((await laptop.get(`/rooms/${room.id}/edit`)).statusCode, 200, 'the edit form opens')

  const guesser = new Visitor(app)
  for (const token of ['x', url.pathname.split('/').pop()!.replace(/.$/, (c) => c === 'A' ? 'B' : 'A'), 'a'.repeat(43)]) {
    const res = await guesser.get(`/rooms/${room.id}/manage/${token}`)
    t.equal(res.statusCode, 403)
    t.match(res.body, 'That link does not work')
  }
  t.equal((await guesser.get(`/rooms/${room.id}/edit`)).statusCode, 403)

  // A new link replaces the old one.
  t.equal((await owner.post(`/rooms/${room.id}/manage-link`)).statusCode, 303)
  const fresh = /readonly value="([^"]+)"/.exec((await owner.get(roomPath)).body)?.[1]
  t.ok(fresh && fresh !== link, 'a new link, shown once')
  t.equal((await new Visitor(app).get(url.pathname)).statusCode, 403, 'the old link no longer works')
  t.equal((await new Visitor(app).get(new URL(fresh!).pathname)).statusCode, 303, 'the new one does')
})

t.test('manageTokenMatches compares digests of equal length in constant time', async (t) => {
  const { token, hash } = newManageToken()
  t.ok(manageTokenMatches(hash, token))
  t.notOk(manageTokenMatches(hash, `${token}x`))
  t.notOk(manageTokenMatches(hash, ''), 'a token of any length is hashed first: no length check leaks')
  t.notOk(manageTokenMatches(null, token), 'no stored hash: nothing matches')
  t.notOk(manageTokenMatches('abc', token), 'a malformed stored hash matches nothing')
})

t.test('ADMIN_TOKEN: at least 32 characters, unset means no admin', async (t) => {
  t.equal(loadConfig({}).adminToken, undefined)
  t.equal(loadConfig({ ADMIN_TOKEN: ADMIN_TOKEN }).adminToken, ADMIN_TOKEN)
  t.throws(() => loadConfig({ ADMIN_TOKEN: 'short' }), /ADMIN_TOKEN must be at least 32 characters/)

  const app = await webApp(t)
  const visitor = new Visitor(app)
  const page = await visitor.get('/admin')
  t.match(page.body, 'Admin sign-in is off')
  t.equal((await visitor.post('/admin', { token: 'x'.repeat(40) })).statusCode, 404)
})

t.test('an admin manages every room, the seeded ones too, until signing out', async (t) => {
  const app = await webApp(t, {}, { adminToken: ADMIN_TOKEN })
  const seeded = await app.rooms.createRoom({ name: 'Lobby' }, {})
  const admin = new Visitor(app)
  t.equal((await admin.get(`/rooms/${seeded.id}/edit`)).statusCode, 403, 'nobody owns a seeded room')

  const form = await admin.get('/admin')
  t.match(form.body, '<form class="form" method="post" action="/admin" novalidate>')
  const wrong = await admin.post('/admin', { token: `${ADMIN_TOKEN}x` })
  t.equal(wrong.statusCode, 422)
  t.match(wrong.body, 'The token is not the admin token')
  const noCsrf = await admin.request({ method: 'POST', url: '/admin', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${ADMIN_TOKEN}` })
  t.equal(noCsrf.statusCode, 403, 'CSRF-protected')

  t.equal((await admin.post('/admin', { token: ADMIN_TOKEN })).statusCode, 303)
  t.match((await admin.get('/rooms')).body, 'You are signed in as an admin')
  t.equal((await admin.get(`/rooms/${seeded.id}/edit`)).statusCode, 200)
  const adminPage = (await admin.get(`/rooms/${seeded.id}`)).body
  t.equal(meta(adminPage, 'room-role'), 'admin')
  t.equal(verified(meta(adminPage, 'user-token')).admin, true, 'the socket token says admin, so the room channel lets the admin moderate')
  const someone = new Visitor(app)
  const theirs = await ownedRoom(app, someone, { name: 'Theirs' })
  t.equal((await admin.post(`/rooms/${theirs.id}`, { name: 'Moderated', capacity: '10', visibility: 'public' })).statusCode, 303, 'and anyone\'s room')
  t.equal((await app.rooms.getRoom(theirs.id))?.name, 'Moderated')
  t.equal((await admin.post(`/rooms/${seeded.id}/manage-link`)).statusCode, 403, 'a room without owner has no manage link')

  t.equal((await admin.post('/admin/sign-out')).statusCode, 303)
  t.equal((await admin.get(`/rooms/${seeded.id}/edit`)).statusCode, 403, 'signed out')
  t.equal(verified(meta((await admin.get(`/rooms/${seeded.id}`)).body, 'user-token')).admin, undefined, 'a new token no longer says admin')
})

t.test('admin sign-in attempts are limited per address', async (t) => {
  const app = await webApp(t, {}, { adminToken: ADMIN_TOKEN })
  const visitor = new Visitor(app)
  const codes: number[] = []
  for (let i = 0; i < 6; i++) codes.push((await visitor.post('/admin', { token: 'wrong-wrong-wrong-wrong-wrong-wrong' })).statusCode)
  t.same(codes, [422, 422, 422, 422, 422, 429])
  const right = await visitor.post('/admin', { token: ADMIN_TOKEN })
  t.equal(right.statusCode, 429, 'even the right token waits')
  t.ok(Number(right.headers['retry-after']) > 0)
})
