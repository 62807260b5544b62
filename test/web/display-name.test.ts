import t from 'tap'
import { normalizeUsername } from '../../src/web/session.ts'
import { databaseKind } from '../helpers/database.ts'
import { meta, Visitor, webApp } from './fixtures/helpers.ts'

t.comment(`database: ${databaseKind()}`)

t.test('normalizeUsername: trimmed, 1..32 characters, no control characters', async (t) => {
  t.equal(normalizeUsername('  Ada  '), 'Ada')
  t.equal(normalizeUsername('😀'.repeat(32)), '😀'.repeat(32), '32 emoji are 32 characters')
  t.equal(normalizeUsername('\u202Eevil'), '\u202Eevil', 'a bidi override is kept and shown isolated')
  for (const [name, code] of [['', 'blank'], ['   ', 'blank'], ['a'.repeat(33), 'long'], ['😀'.repeat(33), 'long'], ['a\u0000b', 'control'], ['a\nb', 'control'], ['a\u0085b', 'control'], ['a\uD800b', 'control']] as const) {
    t.throws(() => normalizeUsername(name), { code: 'XR_ERR_VALIDATION' }, `${JSON.stringify(name)}: ${code}`)
  }
})

t.test('a refused name gets a clear error and changes nothing; a hostile one is escaped everywhere', async (t) => {
  const app = await webApp(t)
  const visitor = new Visitor(app)
  const refused = await visitor.post('/session/name', { username: 'nul\u0000byte' })
  t.equal(refused.statusCode, 422)
  t.match(refused.body, 'username can&#39;t contain control characters')
  const json = await visitor.request({ method: 'POST', url: '/session/name', headers: { accept: 'application/json', 'content-type': 'application/json', 'x-csrf-token': visitor.csrf! }, payload: JSON.stringify({ username: 'a\u0007' }) })
  t.equal(json.statusCode, 422)
  t.same(json.json().fields, { username: "can't contain control characters" })

  const hostile = '"><img src=x onerror=alert(1)>'
  t.equal((await visitor.post('/session/name', { username: hostile })).statusCode, 303)
  const room = await app.rooms.createRoom({ name: 'R' }, {})
  const page = await visitor.get(`/rooms/${room.id}`)
  t.notMatch(page.body, '<img src=x', 'no raw markup anywhere on the page')
  t.match(page.body, 'You now appear as “&quot;&gt;&lt;img src=x onerror=alert(1)&gt;”.', 'the flash escapes it')
  t.equal(meta(page.body, 'username'), hostile, 'the meta holds it literally')
  t.match(page.body, 'value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"', 'the name form too')
})
