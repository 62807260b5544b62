import { createHmac } from 'node:crypto'
import t from 'tap'
import { loadConfig } from '../../../src/config.ts'
import { iceServersFor, parseIceServers, turnCredentials } from '../../../src/channels/voice/ice-servers.ts'

t.test('ICE_SERVERS is a JSON list as RTCPeerConnection takes it', async (t) => {
  t.same(parseIceServers(undefined), [], 'unset: no server, host candidates only')
  t.same(parseIceServers('[{"urls":"stun:s.example:3478"},{"urls":["turn:t.example:3478","turns:t.example:5349"],"username":"u","credential":"c"}]'), [
    { urls: 'stun:s.example:3478' }, { urls: ['turn:t.example:3478', 'turns:t.example:5349'], username: 'u', credential: 'c' }
  ])
  t.throws(() => parseIceServers('stun:s.example'), /must be JSON/)
  t.throws(() => parseIceServers('{"urls":"stun:s"}'), /must be a list/)
  t.throws(() => parseIceServers('[{"url":"stun:s"}]'), /must be a list/)
  t.throws(() => parseIceServers('[{"urls":"http://s.example"}]'), /not a stun:/)
  t.throws(() => loadConfig({ TURN_SECRET: 's3cret' }), /lists no turn/, 'a TURN secret needs a TURN server')
  const config = loadConfig({ ICE_SERVERS: '[{"urls":"turn:t.example:3478"}]', TURN_SECRET: 's3cret', TURN_TTL_SECONDS: '120', VOICE_MAX_PEERS: '4' })
  t.same([config.turnSecret, config.turnTtlSeconds, config.voiceMaxPeers], ['s3cret', 120, 4])
  t.same([loadConfig({}).voiceMaxPeers, loadConfig({}).turnTtlSeconds], [8, 3600], 'defaults')
  t.throws(() => loadConfig({ VOICE_MAX_PEERS: '0' }), /VOICE_MAX_PEERS/)
})

t.test('TURN credentials in coturn\'s REST format expire after the TTL', async (t) => {
  const now = Date.UTC(2026, 11, 1, 12, 0, 0)
  const { username, credential } = turnCredentials('s3cret', 'user-42', 3600, now)
  const [expiry, user] = username.split(':')
  t.equal(user, 'user-42')
  t.equal(Number(expiry), now / 1000 + 3600, 'username is <expiry unix seconds>:<user id>')
  // What coturn computes with static-auth-secret to check the password.
  t.equal(credential, createHmac('sha1', 's3cret').update(username).digest('base64'))
  t.equal(Buffer.from(credential, 'base64').length, 20, 'an HMAC-SHA1, base64')
  t.not(turnCredentials('other', 'user-42', 3600, now).credential, credential, 'bound to the secret')

  const settings = { iceServers: [{ urls: 'stun:s.example' }, { urls: 'turn:t.example', username: 'static', credential: 'static' }], turnSecret: 's3cret', turnTtlSeconds: 60 }
  const given = iceServersFor(settings, 'bob', now)
  t.same(given[0], { urls: 'stun:s.example' }, 'STUN entries unchanged')
  t.equal(given[1]?.username, `${now / 1000 + 60}:bob`, 'minted per user, replacing the static ones')
  t.same(iceServersFor({ ...settings, turnSecret: undefined }, 'bob', now), settings.iceServers, 'without a secret the configured credentials are handed out')
})
