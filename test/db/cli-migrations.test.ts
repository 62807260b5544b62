// `npx prisma migrate deploy` and `npx prisma db seed`, run for real, as a deployer runs them.
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import type { DatabaseTarget } from '../../src/db/adapter.ts'
import { openDatabase } from '../../src/db/database.ts'
import { DEMO_ROOMS } from '../../src/db/demo-rooms.ts'
import { Rooms } from '../../src/db/rooms.ts'
import { emptyDataDir, testSchema } from '../helpers/database.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')
const PRISMA = path.join(ROOT, 'node_modules', '.bin', 'prisma')
const run = promisify(execFile)
const url = process.env.DATABASE_URL

/** Runs the Prisma CLI on the given database; rejects (with its output) when it fails. */
async function prisma (args: string[], env: Record<string, string>): Promise<string> {
  const { stdout, stderr } = await run(PRISMA, args, { cwd: ROOT, env: { ...process.env, REDIS_URL: '', ...env }, timeout: 120_000 })
  return stdout + stderr
}

/** Migrates and seeds an empty database twice over, then writes a diff through the function the migrations made. */
async function deployAndSeed (t: Test, env: Record<string, string>, target: DatabaseTarget): Promise<void> {
  t.match(await prisma(['migrate', 'deploy'], env), /All migrations have been successfully applied/)
  t.match(await prisma(['migrate', 'deploy'], env), /No pending migrations to apply/, 'a second deploy has nothing to do')
  t.match(await prisma(['db', 'seed'], env), /Seeded demo rooms/)
  t.match(await prisma(['db', 'seed'], env), /Demo rooms already present/)
  const db = await openDatabase(target)
  t.teardown(() => db.close())
  const rooms = new Rooms(db.prisma)
  t.equal((await rooms.listRooms()).length, DEMO_ROOMS.length, 'the demo rooms, once')
  const room = await rooms.createRoom({ name: 'after the CLI' }, { box: { color: 'red' } })
  await rooms.updateEntities(room.id, { creates: { ball: { color: 'blue' } }, updates: { box: { color: 'green' } }, deletes: {} })
  t.same(await rooms.entities(room.id), { ball: { color: 'blue' }, box: { color: 'green' } }, 'apply_entities_diff exists and writes')
}

t.test('on PostgreSQL, in a schema of its own', { skip: url ? false : 'needs DATABASE_URL (PostgreSQL)' }, async (t) => {
  const schema = await testSchema(t, url!, { migrated: false })
  const withSchema = new URL(url!)
  withSchema.searchParams.set('schema', schema)
  await deployAndSeed(t, { DATABASE_URL: withSchema.toString() }, { kind: 'postgres', url: url!, schema })
})

t.test('on the embedded database, in a fresh directory', { skip: url ? 'the PostgreSQL pass runs the PostgreSQL case' : false }, async (t) => {
  const dataDir = emptyDataDir(t)
  await deployAndSeed(t, { DATABASE_URL: '', DATA_DIR: dataDir }, { kind: 'pglite', dataDir })
})
