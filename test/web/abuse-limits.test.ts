import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import WebSocket from 'ws'
import type { FastifyInstance } from 'fastify'
import { parseTrustProxy } from '../../src/config.ts'
import { signUserToken } from '../../src/phoenix/token.ts'
import { databaseKind } from '../helpers/database.ts'
import { SECRET, Visitor, webApp } from './fixtures/helpers.ts'

t.comment(`database: ${databaseKind()}`)

const ROOM = { name: 'Spam', capacity: '24', visibility: 'public' }
const spoofed = (i: number): Record<string, string> => ({ 'x-forwarded-for': `203.0.113.${i}` })

t.test('TRUST_PROXY forms', async (t) => {
  t.equal(parseTrustProxy(undefined), false, 'unset: X-Forwarded-For is ignored')
  t.equal(parseTrustProxy('false'), false)
  t.equal(parseTrustProxy('true'), true)
  t.equal(parseTrustProxy('2'), 2, 'a hop count')
  t.same(parseTrustProxy('10.0.0.1, 10.1.0.0/16'), ['10.0.0.1', '10.1.0.0/16'])
  t.throws(() => parseTrustProxy('proxy.example.com'), /TRUST_PROXY/)
})

t.test('room creation is limited per address: 429, Retry-After and a readable page; made-up X-Forwarded-For does not help', async (t) => {
  const app = await webApp(t, { rateLimits: { roomCreateLimit: 3 } })
  const visitor = new Visitor(app)
  const codes: number[] = []
  for (let i = 0; i < 3; i++) codes.push((await visitor.post('/rooms', ROOM, spoofed(i))).statusCode)
  t.same(codes, [303, 303, 303])
  const refused = await visitor.post('/rooms', ROOM, spoofed(9))
  t.equal(refused.statusCode, 429, 'the fourth from the same real address, whatever it claims')
  const wait = Number(refused.headers['retry-after'])
  t.ok(wait > 0 && wait <= 600, `Retry-After ${String(wait)} s, within the 10-minute window`)
  t.match(refused.headers['content-type'], /^text\/html/)
  t.match(refused.body, '<h1>Slow down</h1>')
  t.match(refused.body, /Too many requests: try again in \d+ (seconds|minutes)/)
  const json = await visitor.request({ method: 'POST', url: '/rooms', headers: { accept: 'application/json', 'content-type': 'application/json', 'x-csrf-token': visitor.csrf! }, payload: JSON.stringify({ name: 'x' }) })
  t.equal(json.statusCode, 429)
  t.equal(json.json().error, 'XR_ERR_RATE_LIMITED')
  t.equal((await app.rooms.listRooms()).length, 3, 'three rooms, no more')
  t.equal((await visitor.post('/session/name', { username: 'still ok' })).statusCode, 303, 'other forms still work')
})

t.test('behind a trusted proxy, X-Forwarded-For is the address that is counted', async (t) => {
  const app = await webApp(t, { rateLimits: { roomCreateLimit: 1 } }, { trustProxy: true })
  const visitor = new Visitor(app)
  t.equal((await visitor.post('/rooms', ROOM, spoofed(1))).statusCode, 303)
  t.equal((await visitor.post('/rooms', ROOM, spoofed(2))).statusCode, 303, 'another client behind the proxy')
  t.equal((await visitor.post('/rooms', ROOM, spoofed(1))).statusCode, 429, 'the first client again')
})

t.test('every form post counts against the general per-address limit', async (t) => {
  const app = await webApp(t, { rateLimits: { postLimit: 3 } })
  const visitor = new Visitor(app)
  const codes: number[] = []
  for (let i = 0; i < 4; i++) codes.push((await visitor.post('/session/name', { username: `n${i}` }, spoofed(i))).statusCode)
  t.same(codes, [303, 303, 303, 429])
  t.equal((await visitor.get('/rooms')).statusCode, 200, 'pages still load')
})

async function listening (app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/socket/websocket?vsn=2.0.0&_user_token=${signUserToken(SECRET, 'u')}`
}

/** Opens a socket claiming to come from `forwardedFor`; resolves with the HTTP status of a refusal, or 101. */
async function open (t: { teardown: (fn: () => unknown) => void }, url: string, forwardedFor: string): Promise<number> {
  const ws = new WebSocket(url, { headers: { 'x-forwarded-for': forwardedFor } })
  ws.on('error', () => {})
  t.teardown(() => ws.terminate())
  const outcome = await Promise.race([
    once(ws, 'open').then(() => 101),
    once(ws, 'unexpected-response').then(([, res]) => (res as IncomingMessage).statusCode ?? 0)
  ])
  return outcome
}

t.test('the WebSocket cap per address counts the real address unless TRUST_PROXY says otherwise', async (t) => {
  const plain = await webApp(t, {}, { maxSocketsPerIp: 3 })
  const url = await listening(plain)
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push(await open(t, url, `198.51.100.${i}`))
  t.same(statuses, [101, 101, 101, 429, 429], 'made-up X-Forwarded-For headers do not open more sockets')

  const behindProxy = await webApp(t, {}, { maxSocketsPerIp: 3, trustProxy: true })
  const proxied = await listening(behindProxy)
  const spread: number[] = []
  for (let i = 0; i < 5; i++) spread.push(await open(t, proxied, `198.51.100.${i}`))
  t.same(spread, [101, 101, 101, 101, 101], 'with a trusted proxy each forwarded client has its own cap')
  const same: number[] = []
  for (let i = 0; i < 3; i++) same.push(await open(t, proxied, '198.51.100.0'))
  t.same(same, [101, 101, 429], 'and one forwarded client is capped')
})
