import t from 'tap'
import { redactUrl } from '../src/logger.ts'
import { RawClient, startRoomServer, tokenFor } from './channels/fixtures/room-server.ts'

t.test('credentials in a URL are redacted, the rest kept', async (t) => {
  t.equal(redactUrl('/socket/websocket?vsn=2.0.0&_user_token=abc.def'), '/socket/websocket?vsn=2.0.0&_user_token=[redacted]')
  t.equal(redactUrl('/socket/websocket?_user_token=abc&vsn=2.0.0'), '/socket/websocket?_user_token=[redacted]&vsn=2.0.0')
  t.equal(redactUrl('/x?token=1#frag'), '/x?token=[redacted]#frag')
  t.equal(redactUrl('/rooms/abc?page=2'), '/rooms/abc?page=2')
  t.equal(redactUrl('/rooms/my_user_token=1'), '/rooms/my_user_token=1', 'only query parameters')
})

t.test('a socket\'s token never reaches the logs, though its requests are logged', async (t) => {
  const server = await startRoomServer(t)
  const token = tokenFor('alice')
  await RawClient.open(t, server.endpoint, `vsn=2.0.0&_user_token=${token}`)
  const logged = JSON.stringify(server.logs)
  t.match(logged, /_user_token=\[redacted\]/, 'the upgrade request is logged')
  t.notOk(logged.includes(token), 'without the token')
})
