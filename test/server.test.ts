// The real server process: started as `npm start` would (without the setup steps), stopped by a signal.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import readline from 'node:readline'
import t from 'tap'
import { Rooms } from '../src/db/rooms.ts'
import { openDatabase } from '../src/db/database.ts'
import { migratedDataDir } from './helpers/database.ts'
import { Member, pose, push, RawClient, SECRET, tokenFor, within } from './channels/fixtures/room-server.ts'

const ROOT = path.resolve(import.meta.dirname, '..')

interface Started { child: ChildProcess, port: number, logs: Array<Record<string, unknown>>, exited: Promise<[number | null, string | null]> }

async function startServer (t: { teardown: (fn: () => unknown) => void }, dataDir: string): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: 'json', LOG_LEVEL: 'info', SECRET_KEY_BASE: SECRET },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const logs: Array<Record<string, unknown>> = []
  let onListening: (port: number) => void = () => {}
  const listening = new Promise<number>(resolve => { onListening = resolve })
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>
      logs.push(entry)
      const port = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(String(entry.msg))?.[1]
      if (port) onListening(Number(port))
    } catch {}
  })
  // tsx compiles the app on first start; give it more than the usual wait.
  const port = await Promise.race([listening, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('server did not start')), 30_000))])
  return { child, port, logs, exited }
}

t.test('SIGTERM: sockets are told to reconnect (1001), pending moves and chat are written, exit 0', async (t) => {
  const { dataDir, db } = await migratedDataDir(t)
  const room = await new Rooms(db.prisma).createRoom({ name: 'Shutdown' })
  await db.close()

  const server = await startServer(t, dataDir)
  const endpoint = `ws://127.0.0.1:${server.port}/socket`
  const health = await fetch(`http://127.0.0.1:${server.port}/healthz`)
  t.equal(health.status, 200, 'up and healthy')

  const alice = new Member(t, endpoint, room.id, tokenFor('alice'))
  t.equal((await alice.join()).status, 'ok')
  const raw = await RawClient.open(t, endpoint, `vsn=2.0.0&_user_token=${tokenFor('bob')}`)
  t.equal((await push(alice.channel, 'new_message', { content: 'last words' })).status, 'ok')
  alice.channel.push('i_moved', { pose: { head: pose(12.5) } })
  t.same(await push(alice.channel, 'ping', {}), { status: 'ok', response: {} }, 'the move was handled before the signal')

  server.child.kill('SIGTERM')
  t.equal((await raw.waitClose()).code, 1001, 'open sockets get 1001 (going away) and reconnect elsewhere')
  const [code] = await within(server.exited, 'the server to exit')
  t.equal(code, 0, 'exit code 0')
  t.ok(server.logs.some(l => l.msg === 'shutting down'), 'the shutdown is logged')
  await alice.disconnect()

  const after = await openDatabase({ kind: 'pglite', dataDir })
  t.teardown(() => after.close())
  const rooms = new Rooms(after.prisma)
  const stored = await rooms.getEntityState(room.id, 'alice', { includeDeleted: true })
  t.same(stored?.head, pose(12.5), 'the last move reached the database')
  const messages = await after.prisma.chatMessage.findMany({ where: { roomId: room.id } })
  t.same(messages.map(m => m.content), ['last words'])
})
