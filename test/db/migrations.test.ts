import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { pendingMigrations } from '../../src/db/migrations.ts'
import { databaseKind, testDatabase } from '../helpers/database.ts'

t.comment(`database: ${databaseKind()}`)

const REAL_MIGRATIONS = path.resolve(import.meta.dirname, '../../prisma/migrations')

/** A migrations folder as Prisma lays it out: one folder per migration, and the lock file. */
function migrationsDir (t: { teardown: (fn: () => void) => void }, names: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xr-migrations-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  for (const name of names) {
    fs.mkdirSync(path.join(dir, name))
    fs.writeFileSync(path.join(dir, name, 'migration.sql'), 'SELECT 1;')
  }
  fs.writeFileSync(path.join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n')
  fs.mkdirSync(path.join(dir, '20260105000000_unfinished_edit'))
  return dir
}

t.test('a database never migrated by the CLI (no _prisma_migrations) lacks every migration, in order', async (t) => {
  const db = await testDatabase(t)
  const real = fs.readdirSync(REAL_MIGRATIONS).filter((name) => fs.existsSync(path.join(REAL_MIGRATIONS, name, 'migration.sql'))).sort()
  t.ok(real.length >= 4, 'the repository has its migrations')
  t.same(await pendingMigrations(db.prisma, REAL_MIGRATIONS), real)
  const dir = migrationsDir(t, ['20260102000000_b', '20260101000000_a'])
  t.same(await pendingMigrations(db.prisma, dir), ['20260101000000_a', '20260102000000_b'], 'sorted by name; a folder without migration.sql and the lock file are not migrations')
})

t.test('applied migrations are the finished ones not rolled back', async (t) => {
  const db = await testDatabase(t)
  // The columns of Prisma's own table that the check reads.
  await db.prisma.$executeRawUnsafe(`CREATE TABLE _prisma_migrations (
    id varchar(36) PRIMARY KEY, migration_name varchar(255) NOT NULL,
    finished_at timestamptz, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now())`)
  const dir = migrationsDir(t, ['20260101000000_a', '20260102000000_b', '20260103000000_c', '20260104000000_d'])
  t.same(await pendingMigrations(db.prisma, dir), ['20260101000000_a', '20260102000000_b', '20260103000000_c', '20260104000000_d'], 'an empty table: all pending')
  await db.prisma.$executeRawUnsafe(`INSERT INTO _prisma_migrations (id, migration_name, finished_at, rolled_back_at) VALUES
    ('1', '20260101000000_a', now(), NULL),
    ('2', '20260102000000_b', NULL, NULL),
    ('3', '20260103000000_c', now(), now()),
    ('4', '20260104000000_d', now(), NULL)`)
  t.same(await pendingMigrations(db.prisma, dir), ['20260102000000_b', '20260103000000_c'], 'b never finished, c was rolled back')
  await db.prisma.$executeRawUnsafe(`INSERT INTO _prisma_migrations (id, migration_name, finished_at) VALUES ('5', '20260102000000_b', now()), ('6', '20260103000000_c', now())`)
  t.same(await pendingMigrations(db.prisma, dir), [], 'retried and finished: nothing to do, so npm start skips the CLI')
})
