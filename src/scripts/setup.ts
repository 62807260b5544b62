// What `npm start` does before the server listens, each step skipped when there is nothing to
// do: rebuild after a source change, migrate a database that lacks a migration, seed the demo rooms.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { loadConfig } from '../config.ts'
import { databaseTarget, openDatabase } from '../db/database.ts'
import { seed } from '../db/demo-rooms.ts'
import { pendingMigrations } from '../db/migrations.ts'
import { Rooms } from '../db/rooms.ts'
import { needsBuild } from './freshness.ts'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
const bin = (name: string): string => path.join(ROOT, 'node_modules', '.bin', name)

function run (command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' })
  if (result.status !== 0) {
    console.error(`${path.basename(command)} ${args.join(' ')} failed`)
    process.exit(result.status ?? 1)
  }
}

if (needsBuild(ROOT)) run(bin('tsx'), [path.join(ROOT, 'src', 'scripts', 'build.ts')])

const config = loadConfig()
const target = databaseTarget(config.databaseUrl, config.dataDir)
let db = await openDatabase(target)
try {
  const pending = await pendingMigrations(db.prisma, path.join(ROOT, 'prisma', 'migrations'))
  if (pending.length > 0) {
    // The CLI opens the database itself (and the embedded one allows one process at a time).
    await db.close()
    console.log(`applying ${pending.length} migration(s): ${pending.join(', ')}`)
    run(bin('prisma'), ['migrate', 'deploy'])
    db = await openDatabase(target)
  }
  const created = await seed(new Rooms(db.prisma))
  if (created.length > 0) console.log(`seeded demo rooms: ${created.join(', ')}`)
} finally {
  await db.close()
}
