// Three real server processes sharing Redis and PostgreSQL, as behind a load balancer; the
// process running the room is killed with SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter, once } from 'node:events'
import path from 'node:path'
import readline from 'node:readline'
import t, { type Test } from 'tap'
import { openDatabase, type Database } from '../src/db/database.ts'
import { Rooms } from '../src/db/rooms.ts'
import { Member, pose, push, SECRET, tokenFor } from './channels/fixtures/room-server.ts'
import { testSchema } from './helpers/database.ts'
import { SseClient } from './web/fixtures/sse-client.ts'
import { redisTestPrefix } from './helpers/redis.ts'

const ROOT = path.resolve(import.meta.dirname, '..')
const { DATABASE_URL, REDIS_URL } = process.env
/** Failover is expected within 5 s; waits around it give up later than that, to measure a slow one. */
const FAILOVER_LIMIT_MS = 5000
const PATIENCE_MS = 15_000

type LogLine = Record<string, unknown>

interface Server {
  name: string
  child: ChildProcess
  endpoint: string
  logs: LogLine[]
  /** Emits 'log' with every line the server logs. */
  events: EventEmitter
  exited: Promise<unknown>
}

/** Rejects after `ms` naming what did not happen. */
async function within<T> (promise: Promise<T>, what: string, ms = PATIENCE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms) })])
  } finally {
    clearTimeout(timer)
  }
}

async function startServer (t: { teardown: (fn: () => unknown) => void }, name: string, env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: 'json', LOG_LEVEL: 'info', SECRET_KEY_BASE: SECRET },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const exited = once(child, 'exit')
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const logs: LogLine[] = []
  const events = new EventEmitter()
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    let entry: LogLine
    try {
      entry = JSON.parse(line) as LogLine
    } catch {
      return
    }
    logs.push(entry)
    events.emit('log', entry)
  })
  const port = await within(new Promise<number>((resolve) => {
    events.on('log', (entry: LogLine) => {
      const port = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(String(entry.msg))?.[1]
      if (port) resolve(Number(port))
    })
  }), `${name} to listen`, 30_000)
  return { name, child, endpoint: `ws://127.0.0.1:${port}/socket`, logs, events, exited }
}

/** The first log line of `server` matching `match`, past or future. */
async function logged (server: Server, what: string, match: (line: LogLine) => boolean): Promise<LogLine> {
  const seen = server.logs.find(match)
  if (seen) return seen
  return await within(new Promise<LogLine>((resolve) => {
    const listener = (line: LogLine): void => {
      if (!match(line)) return
      server.events.off('log', listener)
      resolve(line)
    }
    server.events.on('log', listener)
  }), what)
}


/** Polls the database (nothing tells a client when a write is committed). */
async function stored<T> (what: string, read: () => Promise<T | undefined | false>): Promise<T> {
  return await within((async () => {
    for (;;) {
      const value = await read()
      if (value !== undefined && value !== false) return value
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })(), what)
}

/** A schema of the test's own on DATABASE_URL: the test's Rooms on it, and the servers' environment for it and a Redis prefix of their own. */
async function ownSchema (t: Test): Promise<{ db: Database, rooms: Rooms, serversEnv: Record<string, string> }> {
  const schema = await testSchema(t, DATABASE_URL!)
  const url = new URL(DATABASE_URL!)
  url.searchParams.set('schema', schema)
  const db = await openDatabase({ kind: 'postgres', url: DATABASE_URL!, schema })
  t.teardown(() => db.close())
  return {
    db,
    rooms: new Rooms(db.prisma),
    serversEnv: { DATABASE_URL: url.toString(), REDIS_URL: REDIS_URL!, REDIS_PREFIX: redisTestPrefix(t, REDIS_URL) }
  }
}

const people = (m: Member): string => m.people.map(p => p.id).sort().join()
const headX = (m: Member, id: string): number | undefined => (m.entity(id)?.head as number[] | undefined)?.[0]
const runsRoom = (roomId: string) => (line: LogLine): boolean => line.msg === 'running the room here' && line.roomId === roomId

t.test('three processes serve one room; SIGKILL of the one running it moves the room within 5 s', {
  skip: DATABASE_URL && REDIS_URL ? false : 'needs DATABASE_URL (PostgreSQL) and REDIS_URL (Redis)'
}, async (t) => {
  const { db, rooms, serversEnv } = await ownSchema(t)
  // Not persistent: a takeover must continue the room, not reset it to its snapshot.
  const room = await rooms.createRoom({ name: 'Shared', persistent: false }, {
    spawn: { spawn_point: true, position: [0, 0, 0] },
    box: { holdable: true, position: [0, 1, 0] }
  })

  // Poses written every 500 ms instead of 5 s, so that the waits below stay within their bound.
  const env = { ...serversEnv, PROCESS_TIMEOUT_MS: '2500', AVATAR_WRITE_INTERVAL_MS: '500' }
  const servers = await Promise.all(['p0', 'p1', 'p2'].map((name) => startServer(t, name, env)))
  const [p0, p1, p2] = servers as [Server, Server, Server]
  // p2's live room list, while people join on the other processes.
  const roomList = await SseClient.open(p2.endpoint.replace('ws:', 'http:').replace('/socket', '/rooms/events'))
  t.teardown(() => roomList.close())
  t.equal((await roomList.nextEvent())?.event, 'snapshot')

  // Alice is first: her process runs the room.
  const alice = new Member(t, p0.endpoint, room.id, tokenFor('alice'))
  t.equal((await alice.join()).status, 'ok')
  const owner = await logged(p0, 'p0 to run the room', runsRoom(room.id))
  t.equal(owner.takeover, false, 'p0 started the room fresh')
  const bob = new Member(t, p1.endpoint, room.id, tokenFor('bob'))
  t.equal((await bob.join()).status, 'ok')
  const carol = new Member(t, p2.endpoint, room.id, tokenFor('carol'))
  t.equal((await carol.join()).status, 'ok')
  const everyone = [alice, bob, carol]

  for (const m of everyone) {
    await m.until('every avatar', () => m.entity('alice') && m.entity('bob') && m.entity('carol'), PATIENCE_MS)
    await m.until('everyone in presence', () => people(m) === 'alice,bob,carol', PATIENCE_MS)
  }
  t.ok([p1, p2].every((p) => !p.logs.some(runsRoom(room.id))), 'only p0 runs the room')
  for (let frame = await roomList.nextEvent(); ; frame = await roomList.nextEvent()) {
    const data = frame?.data as { room_id?: string, count?: number } | undefined
    if (frame?.event === 'occupancy' && data?.room_id === room.id && data.count === 3) break
  }
  t.pass('p2\'s room list counts the people on every process')

  bob.channel.push('i_moved', { pose: { head: pose(7) } })
  for (const m of everyone) await m.until('bob\'s move', () => headX(m, 'bob') === 7, PATIENCE_MS)
  t.same(everyone.map(m => m.diffs.filter(d => (d.updates?.bob?.head as number[] | undefined)?.[0] === 7).length), [1, 1, 1],
    'each client got the move once')

  t.equal((await push(carol.channel, 'event', { event_name: 'user_picked_up', payload: { target_id: 'box', hand: 'left' } })).status, 'ok')
  for (const m of everyone) await m.until('carol\'s grab', () => m.entity('box')?.parent === 'carol:left', PATIENCE_MS)

  t.equal((await push(bob.channel, 'new_message', { content: 'hello from p1' })).status, 'ok')
  for (const m of everyone) await m.until('the chat message', () => m.messages.some(msg => msg.content === 'hello from p1'), PATIENCE_MS)
  t.same(everyone.map(m => m.messages.filter(msg => msg.content === 'hello from p1').length), [1, 1, 1], 'each got it once')

  // One user with tabs on two processes is one presence; closing one tab is not leaving.
  const bobTab = new Member(t, p2.endpoint, room.id, tokenFor('bob'))
  t.equal((await bobTab.join()).status, 'ok')
  await alice.until('bob with two connections', () => alice.people.find(p => p.id === 'bob')?.metas.length === 2, PATIENCE_MS)
  await bobTab.disconnect()
  await alice.until('bob down to one connection', () => alice.people.find(p => p.id === 'bob')?.metas.length === 1, PATIENCE_MS)
  t.ok(alice.entity('bob') && carol.entity('bob'), 'bob is still in the room')

  // What the room acknowledged before the kill is in the database (a room writes its world at most
  // every 250 ms, its avatars' poses every AVATAR_WRITE_INTERVAL_MS).
  await stored('the grab written', async () => (await rooms.getEntityState(room.id, 'box'))?.parent === 'carol:left')
  await stored('bob\'s move written', async () => ((await rooms.getEntityState(room.id, 'bob'))?.head as number[] | undefined)?.[0] === 7)

  // The new owner sends everyone the world as stored: the first diff re-creating the spawn point.
  const resynced = bob.until('the world sent again by the new owner', () => bob.diffs.some((d) => 'spawn' in (d.creates ?? {})) && Date.now(), PATIENCE_MS)
  const killedAt = Date.now()
  p0.child.kill('SIGKILL')
  await p0.exited
  const takeover = await Promise.race([p1, p2].map(async (p) => ({ p, line: await logged(p, 'a survivor to run the room', runsRoom(room.id)) })))
  const failoverMs = Date.now() - killedAt
  t.comment(`failover: ${takeover.p.name} runs the room ${failoverMs} ms after the SIGKILL (lease ${takeover.line.token})`)
  t.ok(failoverMs < FAILOVER_LIMIT_MS, `ownership moved within ${FAILOVER_LIMIT_MS} ms (${failoverMs} ms)`)
  t.equal(takeover.line.takeover, true, 'the room was recovered, not started afresh')
  t.comment(`bob (on a survivor) got the new owner's first diff ${await resynced - killedAt} ms after the SIGKILL`)

  // The survivors keep receiving diffs from the new owner.
  bob.channel.push('i_moved', { pose: { head: pose(11) } })
  await carol.until('bob\'s move after the failover', () => headX(carol, 'bob') === 11, PATIENCE_MS)
  carol.channel.push('i_moved', { pose: { head: pose(12) } })
  await bob.until('carol\'s move after the failover', () => headX(bob, 'carol') === 12, PATIENCE_MS)
  t.equal((await push(carol.channel, 'event', { event_name: 'user_released', payload: { target_id: 'box', hand: 'left' } })).status, 'ok')
  await bob.until('the release after the failover', () => bob.entity('box')?.parent === null, PATIENCE_MS)
  // Alice's process is gone: once its heartbeat expires she leaves presence and the world.
  for (const m of [bob, carol]) {
    await m.until('alice gone from presence', () => people(m) === 'bob,carol', PATIENCE_MS)
    await m.until('alice\'s avatar gone', () => m.entity('alice') === undefined, PATIENCE_MS)
  }
  t.comment(`alice (on the killed process) left ${Date.now() - killedAt} ms after the SIGKILL`)

  // Nothing acknowledged before the kill was lost, and the new owner writes.
  t.same((await db.prisma.chatMessage.findMany({ where: { roomId: room.id } })).map(m => m.content), ['hello from p1'])
  await stored('the release written by the new owner', async () => (await rooms.getEntityState(room.id, 'box'))?.parent === null)
  await stored('bob\'s last move written', async () => ((await rooms.getEntityState(room.id, 'bob'))?.head as number[] | undefined)?.[0] === 11)
  t.ok(await rooms.getEntityState(room.id, 'spawn'), 'the world was not reset')
  // Alice's leaving may come after the release: it is written with the room's next batch.
  await stored('alice\'s leaving written', async () => (await rooms.getEntityState(room.id, 'alice')) === null)
  t.same(Object.keys(await rooms.entities(room.id)).sort(), ['bob', 'box', 'carol', 'spawn'])

  // A graceful stop hands the room over at once: the lease is given up, not left to expire.
  const [next] = [p1, p2].filter((p) => p !== takeover.p) as [Server]
  const stoppedAt = Date.now()
  takeover.p.child.kill('SIGTERM')
  await logged(next, 'the last process to run the room', (line) => runsRoom(room.id)(line) && line.takeover === true)
  t.comment(`handover on SIGTERM: ${Date.now() - stoppedAt} ms`)
  const survivor = next === p1 ? bob : carol
  survivor.channel.push('i_moved', { pose: { head: pose(13) } })
  await stored('a move written by the last process', async () => ((await rooms.getEntityState(room.id, survivor === bob ? 'bob' : 'carol'))?.head as number[] | undefined)?.[0] === 13)

  for (const m of everyone) m.socket.disconnect()
})

t.test('an owner paused (SIGSTOP) past its lease loses the room, and its late writes are refused once it resumes (SIGCONT)', {
  skip: DATABASE_URL && REDIS_URL ? false : 'needs DATABASE_URL (PostgreSQL) and REDIS_URL (Redis)'
}, async (t) => {
  const { rooms, serversEnv } = await ownSchema(t)
  const room = await rooms.createRoom({ name: 'Paused', persistent: false }, { spawn: { spawn_point: true, position: [0, 0, 0] } })
  const storedX = async (userId: string): Promise<number | undefined> => ((await rooms.getEntityState(room.id, userId))?.head as number[] | undefined)?.[0]

  // A short lease, so that the takeover comes quickly; presence outlasts the pause, so that
  // alice (on the paused process) stays in the room. a writes poses every 3 s: a move of hers
  // waits in a's memory when it is paused; b writes its first pose at once.
  const POSE_MS = 3000
  const common = { ...serversEnv, ROOM_LEASE_MS: '1000', PROCESS_TIMEOUT_MS: '30000' }
  const [a, b] = await Promise.all([
    startServer(t, 'a', { ...common, AVATAR_WRITE_INTERVAL_MS: String(POSE_MS) }),
    startServer(t, 'b', { ...common, AVATAR_WRITE_INTERVAL_MS: '500' })
  ])
  t.teardown(() => { if (a.child.signalCode === 'SIGSTOP') a.child.kill('SIGCONT') })

  const alice = new Member(t, a.endpoint, room.id, tokenFor('alice'))
  t.equal((await alice.join()).status, 'ok')
  t.equal((await logged(a, 'a to run the room', runsRoom(room.id))).takeover, false)
  const bob = new Member(t, b.endpoint, room.id, tokenFor('bob'))
  t.equal((await bob.join()).status, 'ok')
  await bob.until('alice\'s avatar', () => bob.entity('alice'), PATIENCE_MS)
  await stored('both avatars written', async () => (await storedX('alice')) !== undefined && (await storedX('bob')) !== undefined)

  // The first pose after a quiet spell is written at once; the next one waits for POSE_MS.
  alice.channel.push('i_moved', { pose: { head: pose(4) } })
  await stored('alice\'s first move written', async () => (await storedX('alice')) === 4)
  const poseDue = Date.now() + POSE_MS
  alice.channel.push('i_moved', { pose: { head: pose(5) } })
  await bob.until('alice\'s second move, run by a', () => headX(bob, 'alice') === 5, PATIENCE_MS)
  a.child.kill('SIGSTOP')
  const pausedAt = Date.now()
  t.equal(await storedX('alice'), 4, 'a had not written the second move when it was paused')

  const takeover = await logged(b, 'b to take the room over', runsRoom(room.id))
  t.equal(takeover.takeover, true, 'b recovered the room from the database')
  t.comment(`b runs the room ${Date.now() - pausedAt} ms after a was paused (lease ${takeover.token})`)
  bob.channel.push('i_moved', { pose: { head: pose(7) } })
  await stored('bob\'s move, written by b', async () => (await storedX('bob')) === 7)

  // a's pose write is overdue when it resumes: it runs, or the refused renewal stops the room first.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, poseDue + 200 - Date.now())))
  a.child.kill('SIGCONT')
  const lost = await logged(a, 'a to lose the lease', (line) => line.msg === 'lost the room lease: the room runs elsewhere now' && line.roomId === room.id)
  t.comment(`a found out on resuming: its ${String(lost.refused)} was refused`)
  const dropped = a.logs.find((line) => line.msg === 'stopped with unwritten diffs' && line.roomId === room.id)
  const droppedX = ((dropped?.diffs as Array<{ updates?: Record<string, { head?: number[] }> }> | undefined) ?? [])
    .map((diff) => diff.updates?.alice?.head?.[0])
  t.ok(droppedX.includes(5), 'a dropped alice\'s stale move instead of writing it')

  // a's sockets stay, served by b now.
  bob.channel.push('i_moved', { pose: { head: pose(8) } })
  await alice.until('bob\'s move, run by b, to alice on a', () => headX(alice, 'bob') === 8, PATIENCE_MS)
  await stored('bob\'s last move, written by b', async () => (await storedX('bob')) === 8)
  t.equal(await storedX('alice'), 4, 'the database keeps alice as b runs her, not a\'s stale move')
  t.equal(a.logs.filter(runsRoom(room.id)).length, 1, 'a did not take the room back')

  for (const m of [alice, bob]) m.socket.disconnect()
})
