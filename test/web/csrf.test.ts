import t from 'tap'
import { databaseKind } from '../helpers/database.ts'
import { csrfField, meta, ownedRoom, recordingLifecycle, Visitor, webApp } from './fixtures/helpers.ts'

t.comment(`database: ${databaseKind()}`)

t.test('every form carries the CSRF token of the page', async (t) => {
  const app = await webApp(t)
  const visitor = new Visitor(app)
  const room = await ownedRoom(app, visitor, { name: 'R' })
  for (const url of ['/rooms/new', `/rooms/${room.id}`, `/rooms/${room.id}/edit`]) {
    const res = await visitor.get(url)
    const forms = res.body.match(/<form[^>]*method="post"[^>]*>/g) ?? []
    const fields = res.body.match(/<input type="hidden" name="_csrf" value="[^"]+">/g) ?? []
    t.ok(forms.length > 0, `${url} has forms`)
    t.equal(fields.length, forms.length, `${url}: one _csrf field per POST form`)
    t.ok(csrfField(res.body), `${url}: token present`)
    t.ok(meta(res.body, 'csrf-token'), `${url}: csrf-token meta`)
  }
})

t.test('every state-changing form rejects a missing or wrong token with a 403 page', async (t) => {
  const lifecycle = recordingLifecycle()
  const app = await webApp(t, { lifecycle })
  const room = await app.rooms.createRoom({ name: 'Target' }, {})
  const visitor = new Visitor(app)
  await visitor.get('/rooms')

  const posts: Array<[string, Record<string, string>]> = [
    ['/rooms', { name: 'Sneaky' }],
    [`/rooms/${room.id}`, { name: 'Renamed' }],
    [`/rooms/${room.id}/delete`, {}],
    [`/rooms/${room.id}/reset`, {}],
    ['/session/name', { username: 'mallory' }]
  ]
  for (const [url, form] of posts) {
    const missing = await visitor.request({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(form).toString()
    })
    t.equal(missing.statusCode, 403, `${url} without a token`)
    t.match(missing.body, '<p class="error-status">403</p>')
    t.match(missing.body, 'This form has expired')

    const wrong = await visitor.post(url, { ...form, _csrf: 'not-a-real-token' })
    t.equal(wrong.statusCode, 403, `${url} with a wrong token`)

    const json = await visitor.request({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'x-csrf-token': 'wrong' },
      payload: new URLSearchParams(form).toString()
    })
    t.equal(json.statusCode, 403)
    t.same(json.json(), { error: 'FST_CSRF_INVALID_TOKEN', message: json.json().message }, `${url}: JSON clients get JSON`)
  }

  const stranger = new Visitor(app)
  const noSession = await stranger.request({
    method: 'POST',
    url: `/rooms/${room.id}/delete`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `_csrf=${encodeURIComponent(visitor.csrf!)}`
  })
  t.equal(noSession.statusCode, 403, "another visitor's token is useless without their session")

  t.equal((await app.rooms.listRooms()).length, 1, 'nothing was created or deleted')
  t.equal((await app.rooms.getRoom(room.id))!.name, 'Target', 'nothing was renamed')
  t.same(lifecycle.calls, [], 'no lifecycle hook ran')
  const page = await visitor.get(`/rooms/${room.id}`)
  t.equal(meta(page.body, 'username'), 'anon', 'the name did not change')
})

t.test('the x-csrf-token header is accepted in place of the field', async (t) => {
  const app = await webApp(t)
  const visitor = new Visitor(app)
  await visitor.get('/rooms')
  const res = await visitor.request({
    method: 'POST',
    url: '/session/name',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': visitor.csrf!, 'x-requested-with': 'fetch' },
    payload: 'username=Ada'
  })
  t.equal(res.statusCode, 204)
})
