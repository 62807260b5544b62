// A database outage, made real: the app reaches PostgreSQL through a TCP proxy that the test
// cuts (every connection dropped, new ones refused) and then restores.
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { buildApp } from '../src/app.ts'
import { openDatabase } from '../src/db/database.ts'
import { Rooms } from '../src/db/rooms.ts'
import { testSchema } from './helpers/database.ts'
import { logStream } from './phoenix/fixtures/helpers.ts'
import { Member, pose, push, SECRET, tokenFor } from './channels/fixtures/room-server.ts'

/** How long the database stays away; moves keep coming all along. */
const OUTAGE_MS = 3000
const MOVE_EVERY_MS = 50

class CuttableProxy {
  readonly #server: net.Server
  readonly #sockets = new Set<net.Socket>()
  #port = 0

  constructor (private readonly target: { host: string, port: number }) {
    this.#server = net.createServer((client) => {
      const upstream = net.connect(target)
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket)
        socket.on('close', () => this.#sockets.delete(socket))
        socket.on('error', () => {})
      }
      client.pipe(upstream).pipe(client)
      client.on('close', () => upstream.destroy())
      upstream.on('close', () => client.destroy())
    })
  }

  async listen (): Promise<number> {
    await new Promise<void>(resolve => this.#server.listen(this.#port, '127.0.0.1', resolve))
    this.#port = (this.#server.address() as AddressInfo).port
    return this.#port
  }

  /** Drops every connection and refuses new ones (the port is closed), like a stopped server. */
  async cut (): Promise<void> {
    const closed = new Promise<void>(resolve => this.#server.close(() => resolve()))
    for (const socket of this.#sockets) socket.destroy()
    await closed
  }

  async restore (): Promise<void> {
    await this.listen()
  }

  async close (): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    if (this.#server.listening) await new Promise<void>(resolve => this.#server.close(() => resolve()))
  }
}

const url = process.env.DATABASE_URL
t.test('PostgreSQL goes away while people move: live diffs go on, pages say 503, every move is written after', { skip: url ? false : 'needs DATABASE_URL (a real PostgreSQL to cut off)' }, async (t) => {
  const direct = new URL(url!)
  const proxy = new CuttableProxy({ host: direct.hostname, port: Number(direct.port || 5432) })
  const port = await proxy.listen()
  t.teardown(() => proxy.close())
  const schema = await testSchema(t, url!)
  const viaProxy = new URL(url!)
  viaProxy.hostname = '127.0.0.1'
  viaProxy.port = String(port)
  const database = await openDatabase({ kind: 'postgres', url: viaProxy.toString(), schema })
  t.teardown(() => database.close())

  const logs: Array<Record<string, unknown>> = []
  const app = await buildApp({
    database,
    logger: { level: 'info', stream: logStream(logs) },
    config: { secretKeyBase: SECRET },
    runtime: { persistence: { initialBackoffMs: 50, maxBackoffMs: 250 } }
  })
  t.teardown(() => app.close())
  const room = await app.rooms.createRoom({ name: 'Outage' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const endpoint = `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/socket`

  const observer = new Member(t, endpoint, room.id, tokenFor('olga'))
  const mover = new Member(t, endpoint, room.id, tokenFor('maria'))
  t.equal((await observer.join()).status, 'ok')
  t.equal((await mover.join()).status, 'ok')
  await observer.until('maria arrives', () => observer.entity('maria'))

  await proxy.cut()
  let x = 0
  const moving = setInterval(() => { mover.channel.push('i_moved', { pose: { head: pose(++x) } }) }, MOVE_EVERY_MS)
  t.teardown(() => clearInterval(moving))

  await observer.until('moves keep arriving during the outage', () => ((observer.entity('maria')?.head as number[] | undefined)?.[0] ?? 0) >= 5)
  const page = await app.inject({ url: '/rooms' })
  t.equal(page.statusCode, 503, 'the room list answers 503')
  t.match(page.body, /database cannot be reached/, 'with a page that says why')
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 503, 'not ready')
  const chat = await push(mover.channel, 'new_message', { content: 'anyone?' })
  t.same([chat.status, chat.response.reason], ['error', 'unavailable'], 'chat says it could not save, without crashing the channel')
  const late = new Member(t, endpoint, room.id, tokenFor('lena'))
  t.same(await late.join(), { status: 'error', response: { reason: 'unavailable' } }, 'a join is refused for now (the client retries)')
  late.socket.disconnect()

  await new Promise(resolve => setTimeout(resolve, OUTAGE_MS))
  await proxy.restore()
  clearInterval(moving)
  const last = x
  await observer.until('the last move is seen', () => (observer.entity('maria')?.head as number[] | undefined)?.[0] === last)
  t.equal(observer.pushesOf('phx_error').length + mover.pushesOf('phx_error').length, 0, 'no channel failed')
  t.ok(logs.some(l => l.msg === 'writing an entities diff failed; will retry'), 'the failed writes were retried')
  t.notOk(logs.some(l => l.msg === 'the database rejects an entities diff; dropping it'), 'and none was dropped')

  await app.runtime.supervisor.flush(room.id)
  const stored = await new Rooms(database.prisma).getEntityState(room.id, 'maria', { includeDeleted: true })
  t.same(stored?.head, pose(last), `the last of ${last} moves is in the database`)
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200, 'ready again')
  t.equal((await push(mover.channel, 'new_message', { content: 'back' })).status, 'ok', 'chat works again')
})
