import t from 'tap'
import { databaseKind } from '../helpers/database.ts'
import { ownedRoom, recordingLifecycle, Visitor, webApp } from './fixtures/helpers.ts'

t.comment(`database: ${databaseKind()}`)

t.test('/ redirects to /rooms', async (t) => {
  const app = await webApp(t)
  const res = await app.inject({ url: '/' })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/rooms')
})

t.test('the room list shows each room with its name, description, occupancy and link', async (t) => {
  const app = await webApp(t)
  const empty = await app.inject({ url: '/rooms' })
  t.equal(empty.statusCode, 200)
  t.match(empty.headers['content-type'], /^text\/html; charset=utf-8/)
  t.match(empty.body, /<p class="empty-state" id="rooms-empty">No rooms yet/, 'empty state shown')

  const lobby = await app.rooms.createRoom({ name: 'Lobby', description: 'Meet here' }, {})
  const playground = await app.rooms.createRoom({ name: 'Playground', persistent: false }, {})
  app.roomDirectory.setOccupancy(lobby.id, 3)

  const res = await app.inject({ url: '/rooms' })
  t.equal(res.statusCode, 200)
  t.match(res.body, /<p class="empty-state" id="rooms-empty" hidden>/, 'empty state hidden')
  t.match(res.body, `<li class="room-card" data-room-id="${lobby.id}">`)
  t.match(res.body, `href="/rooms/${lobby.id}"`)
  t.match(res.body, '<h2 class="room-card-name" data-field="name">Lobby</h2>')
  t.match(res.body, 'data-field="description">Meet here</p>')
  t.match(res.body, '<span class="occupancy" data-occupancy="3">', 'people online now')
  t.match(res.body, `data-room-id="${playground.id}"`)
  t.ok(res.body.indexOf('Lobby') < res.body.indexOf('Playground'), 'the room with people in it first')
  t.match(res.body, '<script type="module" src="/js/rooms.js?v=', 'the live list script, versioned')
  t.match(res.body, '<template id="room-card-template">', 'a blank card for rooms created later')
})

t.test('creating a room redirects to it with a flash message shown once', async (t) => {
  const lifecycle = recordingLifecycle()
  const app = await webApp(t, { lifecycle })
  const visitor = new Visitor(app)
  const form = await visitor.get('/rooms/new')
  t.equal(form.statusCode, 200)
  t.match(form.body, '<form class="form" method="post" action="/rooms" novalidate>')
  t.match(form.body, /<input type="hidden" name="_csrf" value="[^"]+">/)
  t.match(form.body, '<input type="checkbox" id="room-persistent" name="persistent" value="true" checked>', 'persistent by default')

  const created = await visitor.post('/rooms', { name: '  Atrium  ', description: 'Tall and bright', persistent: 'true' })
  t.equal(created.statusCode, 303)
  const [room] = await app.rooms.listRooms()
  t.ok(room, 'the room exists')
  t.equal(created.headers.location, `/rooms/${room!.id}`)
  t.equal(room!.name, 'Atrium', 'trimmed')
  t.equal(room!.description, 'Tall and bright')
  t.equal(room!.persistent, true)
  t.ok(Object.keys(await app.rooms.entities(room!.id)).length > 0, 'the room has random content')

  const shown = await visitor.get(`/rooms/${room!.id}`)
  t.equal(shown.statusCode, 200)
  t.match(shown.body, '<p class="flash flash-notice" role="status">Room “Atrium” created.</p>')
  t.same(lifecycle.calls, [`startRoom:${room!.id}`], 'showing the room starts it')
  const again = await visitor.get(`/rooms/${room!.id}`)
  t.notMatch(again.body, 'class="flash', 'the flash is shown once')
})

t.test('an unchecked persistent box makes a non-persistent room', async (t) => {
  const app = await webApp(t)
  const visitor = new Visitor(app)
  const res = await visitor.post('/rooms', { name: 'Playground' })
  t.equal(res.statusCode, 303)
  const [room] = await app.rooms.listRooms()
  t.equal(room!.persistent, false)
})

t.test('invalid input re-renders the form with messages per field and the input kept', async (t) => {
  const app = await webApp(t)
  const visitor = new Visitor(app)

  const blank = await visitor.post('/rooms', { name: '   ', description: 'Kept <b>as typed</b>' })
  t.equal(blank.statusCode, 422)
  t.match(blank.headers['content-type'], /^text\/html/)
  t.match(blank.body, '<p class="field-error" id="room-name-error">Name can&#39;t be blank</p>')
  t.match(blank.body, 'Kept &lt;b&gt;as typed&lt;/b&gt;</textarea>', 'description kept, escaped')
  t.match(blank.body, '<input type="checkbox" id="room-persistent" name="persistent" value="true">', 'unchecked box kept unchecked')

  const tooLong = await visitor.post('/rooms', { name: 'n'.repeat(81), description: 'd'.repeat(1001), persistent: 'true' })
  t.equal(tooLong.statusCode, 422)
  t.match(tooLong.body, 'Name should be at most 80 characters', 'every field is reported at once')
  t.match(tooLong.body, 'Description should be at most 1000 characters')
  t.match(tooLong.body, `value="${'n'.repeat(81)}"`, 'name kept')
  t.match(tooLong.body, 'name="persistent" value="true" checked', 'checked box kept checked')

  const missing = await visitor.post('/rooms', {})
  t.equal(missing.statusCode, 422)
  t.match(missing.body, 'Name can&#39;t be blank')

  const badCheckbox = await visitor.post('/rooms', { name: 'Ok', persistent: 'yes' })
  t.equal(badCheckbox.statusCode, 422)
  t.match(badCheckbox.body, 'Persistent is invalid')

  const twice = await visitor.request({
    method: 'POST',
    url: '/rooms',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `_csrf=${encodeURIComponent(visitor.csrf!)}&name=a&name=b`
  })
  t.equal(twice.statusCode, 422, 'a repeated field is bad input, not a crash')
  t.match(twice.body, 'Name must be text')

  const json = await visitor.request({
    method: 'POST',
    url: '/rooms',
    headers: { 'content-type': 'application/json', 'x-csrf-token': visitor.csrf! },
    payload: JSON.stringify({ name: 42 })
  })
  t.equal(json.statusCode, 422)

  t.equal((await app.rooms.listRooms()).length, 0, 'nothing was created')
})

t.test('a body that is not a form at all gets a form-level message', async (t) => {
  const app = await webApp(t)
  const visitor = new Visitor(app)
  await visitor.get('/rooms/new')
  const res = await visitor.request({
    method: 'POST',
    url: '/rooms',
    headers: { 'content-type': 'application/json', 'x-csrf-token': visitor.csrf! },
    payload: '[1, 2]'
  })
  t.equal(res.statusCode, 422)
  t.match(res.body, '<p class="form-error" role="alert">The form could not be read')

  const unsupported = await visitor.request({
    method: 'POST',
    url: '/rooms',
    headers: { 'content-type': 'application/xml', 'x-csrf-token': visitor.csrf! },
    payload: '<name>x</name>'
  })
  t.equal(unsupported.statusCode, 415, 'an unknown content type is a client error page, not a 500')
  t.match(unsupported.body, '<p class="error-status">415</p>')
})

t.test('the room page has the canvas, the panel, the metas and the bundle', async (t) => {
  const app = await webApp(t)
  const owner = new Visitor(app)
  const room = await ownedRoom(app, owner, { name: 'Gallery', description: 'Blocks' })
  const res = await owner.get(`/rooms/${room.id}`)
  t.equal(res.statusCode, 200)
  const body = res.body
  t.match(body, '<title>Gallery · XR Rooms</title>')
  t.match(body, '<body class="page-room">')
  for (const fragment of [
    '<canvas id="room-canvas"',
    '<ul id="people"',
    '<div id="chat">',
    '<ol id="messages"',
    '<form id="chat-form"',
    '<input name="content" maxlength="500" autocomplete="off"',
    '<span id="connection-status" class="connection-status" data-state="connecting">connecting…</span>',
    '<form id="name-form" class="inline-form" method="post" action="/session/name">',
    '<input name="username" value="anon"',
    '<div id="webgl-error" class="stage-message" hidden>',
    'WebGL is unavailable',
    'chat still works',
    '<button id="enter-vr" class="button enter-vr" type="button" hidden>Enter VR</button>',
    `href="/rooms/${room.id}/edit"`,
    `action="/rooms/${room.id}/reset"`,
    '<kbd>G</kbd>'
  ]) t.match(body, fragment)
  t.match(body, /<script type="module" src="\/build\/room\.js(\?v=[\w-]+)?"><\/script>/)
  t.match(body, `<meta name="room-id" content="${room.id}">`)
  t.match(body, '<meta name="username" content="anon">')
  t.match(body, /<meta name="user-id" content="[0-9a-f-]{36}">/)
  t.match(body, /<meta name="user-token" content="[\w-]+\.[\w-]+">/)
  t.match(body, /<meta name="csrf-token" content="[^"]+">/)
})

t.test('editing a room: form with its values, update, flash, validation', async (t) => {
  const app = await webApp(t)
  const visitor = new Visitor(app)
  const room = await ownedRoom(app, visitor, { name: 'Old', description: 'Before' })

  const edit = await visitor.get(`/rooms/${room.id}/edit`)
  t.equal(edit.statusCode, 200)
  t.match(edit.body, `<form class="form" method="post" action="/rooms/${room.id}" novalidate>`)
  t.match(edit.body, '<input id="room-name" name="name" value="Old"')
  t.match(edit.body, '>Before</textarea>')
  t.match(edit.body, 'name="persistent" value="true" checked')
  t.match(edit.body, `action="/rooms/${room.id}/delete"`)

  const bad = await visitor.post(`/rooms/${room.id}`, { name: '', description: 'Typed' })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, 'Name can&#39;t be blank')
  t.match(bad.body, '>Typed</textarea>', 'input kept')
  t.match(bad.body, `action="/rooms/${room.id}"`, 'still the edit form')
  t.equal((await app.rooms.getRoom(room.id))!.name, 'Old', 'nothing saved')

  const saved = await visitor.post(`/rooms/${room.id}`, { name: 'New', description: 'After' })
  t.equal(saved.statusCode, 303)
  t.equal(saved.headers.location, `/rooms/${room.id}`)
  const updated = await app.rooms.getRoom(room.id)
  t.same({ name: updated!.name, description: updated!.description, persistent: updated!.persistent },
    { name: 'New', description: 'After', persistent: false }, 'an unchecked box clears persistent')
  const page = await visitor.get(`/rooms/${room.id}`)
  t.match(page.body, 'Room saved.')
})

t.test('deleting a room stops it first, then deletes it', async (t) => {
  const order: string[] = []
  const app = await webApp(t, {
    lifecycle: {
      startRoom: async () => {},
      resetRoom: async () => {},
      stopRoom: async (id) => {
        order.push(`stop (room exists: ${(await app.rooms.getRoom(id)) !== null})`)
      }
    }
  })
  const visitor = new Visitor(app)
  const room = await ownedRoom(app, visitor, { name: 'Doomed' })
  const res = await visitor.post(`/rooms/${room.id}/delete`)
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/rooms')
  t.same(order, ['stop (room exists: true)'])
  t.equal(await app.rooms.getRoom(room.id), null)
  const list = await visitor.get('/rooms')
  t.match(list.body, 'Room “Doomed” deleted.')
  t.notMatch(list.body, `data-room-id="${room.id}"`)

  const gone = await visitor.post(`/rooms/${room.id}/delete`)
  t.equal(gone.statusCode, 404)
})

t.test('reset calls the lifecycle; by default it restores the initial snapshot', async (t) => {
  const lifecycle = recordingLifecycle()
  const recorded = await webApp(t, { lifecycle })
  const visitor = new Visitor(recorded)
  const room = await ownedRoom(recorded, visitor, { name: 'R' })
  lifecycle.calls.length = 0
  const res = await visitor.post(`/rooms/${room.id}/reset`)
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, `/rooms/${room.id}`)
  t.same(lifecycle.calls, [`resetRoom:${room.id}`])
  t.match((await visitor.get(`/rooms/${room.id}`)).body, 'The room is back to how it started.')

  const app = await webApp(t)
  const someone = new Visitor(app)
  const world = await app.rooms.createRoom({ name: 'W' }, undefined, await someone.userId())
  const initial = await app.rooms.entities(world.id)
  await app.rooms.updateEntities(world.id, { creates: { intruder: { position: [0, 0, 0] } }, updates: {}, deletes: {} })
  t.equal((await someone.post(`/rooms/${world.id}/reset`)).statusCode, 303)
  t.same(await app.rooms.entities(world.id), initial, 'the world is back to its initial snapshot')
})

t.test('unknown rooms get the friendly 404 page', async (t) => {
  const lifecycle = recordingLifecycle()
  const app = await webApp(t, { lifecycle })
  const visitor = new Visitor(app)
  for (const res of [
    await visitor.get('/rooms/nope'),
    await visitor.get('/rooms/nope/edit'),
    await visitor.post('/rooms/nope', { name: 'x' }),
    await visitor.post('/rooms/nope/reset'),
    await visitor.post('/rooms/nope/delete')
  ]) {
    t.equal(res.statusCode, 404)
    t.match(res.headers['content-type'], /^text\/html/)
    t.match(res.body, '<p class="error-status">404</p>')
    t.match(res.body, 'This room doesn&#39;t exist')
  }
  t.same(lifecycle.calls, [], 'no lifecycle hook ran for a room that does not exist')

  const page = await app.inject({ url: '/no/such/page' })
  t.equal(page.statusCode, 404)
  t.match(page.body, 'We couldn&#39;t find that page')
})

t.test('a <script> room name is escaped on the list, room and edit pages', async (t) => {
  const app = await webApp(t)
  const name = '<script>alert("x")</script>'
  const owner = new Visitor(app)
  const room = await ownedRoom(app, owner, { name, description: '<img src=x onerror=alert(1)>' })
  const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'
  for (const url of ['/rooms', `/rooms/${room.id}`, `/rooms/${room.id}/edit`]) {
    const res = await owner.get(url)
    t.equal(res.statusCode, 200, url)
    t.notMatch(res.body, '<script>alert', `${url}: no raw script`)
    t.notMatch(res.body, '<img src=x', `${url}: no raw img`)
    t.match(res.body, escaped, `${url}: name shown escaped`)
  }
  const visitor = new Visitor(app)
  const created = await visitor.post('/rooms', { name: '"><script>x()</script>', description: '' })
  t.equal(created.statusCode, 303)
  const shown = await visitor.get(created.headers.location as string)
  t.notMatch(shown.body, '<script>x()', 'a name typed into the form is escaped too')
  t.match(shown.body, 'Room “&quot;&gt;&lt;script&gt;x()&lt;/script&gt;” created.', 'and in the flash')
})
