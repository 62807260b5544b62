import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import pg from 'pg'
import { PGlite } from '@electric-sql/pglite'
import { openDatabase, type Database } from '../../src/db/database.ts'

const migrationsDir = path.resolve(import.meta.dirname, '../../prisma/migrations')

function migrationScripts (): string[] {
  return fs.readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => fs.readFileSync(path.join(migrationsDir, name, 'migration.sql'), 'utf8'))
}

// initdb takes seconds in PGlite: build one migrated data dir per migration set, then load
// a copy of it for each test database (about a second).
export async function migratedDump (): Promise<Blob> {
  const scripts = migrationScripts()
  const hash = createHash('sha256').update(scripts.join('\n')).digest('hex').slice(0, 16)
  const file = path.join(os.tmpdir(), `xr-rooms-pglite-${hash}.tar.gz`)
  if (!fs.existsSync(file)) {
    const db = await PGlite.create()
    for (const script of scripts) await db.exec(script)
    const dump = await db.dumpDataDir('gzip')
    await db.close()
    const tmp = `${file}.${process.pid}.tmp`
    fs.writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()))
    fs.renameSync(tmp, file)
  }
  return new Blob([fs.readFileSync(file)])
}

interface Teardown { teardown: (fn: () => unknown) => void }

/**
 * A new schema in the PostgreSQL database at `url`, dropped in teardown: migrated, or empty with
 * `migrated: false` (for the Prisma CLI to migrate).
 */
export async function testSchema (t: Teardown, url: string, { migrated = true } = {}): Promise<string> {
  const schema = `test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query(`CREATE SCHEMA "${schema}"`)
  await admin.query(`SET search_path TO "${schema}"`)
  if (migrated) for (const script of migrationScripts()) await admin.query(script.replace(/CREATE SCHEMA IF NOT EXISTS "public";/g, ''))
  // Registered first, so it runs after the teardowns of whatever uses the schema.
  t.teardown(async () => {
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`)
    await admin.end()
  })
  return schema
}

/**
 * A fresh, migrated database for one test: PostgreSQL in a schema of its own when
 * DATABASE_URL is set, else an in-memory PGlite in a worker thread.
 */
export async function testDatabase (t: Teardown): Promise<Database> {
  const url = process.env.DATABASE_URL
  if (url) {
    const schema = await testSchema(t, url)
    const db = await openDatabase({ kind: 'postgres', url, schema })
    t.teardown(() => db.close())
    return db
  }
  // In a thread of its own, as the server runs it.
  const db = await openDatabase({ kind: 'pglite', loadDataDir: await migratedDump(), thread: true })
  t.teardown(() => db.close())
  return db
}

/** A new empty directory for a PGlite database, removed in teardown. */
export function emptyDataDir (t: Teardown): string {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'xr-rooms-data-'))
  t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }))
  return dataDir
}

/**
 * A migrated embedded database in a new directory of its own, for a server process to open
 * (DATA_DIR). Returned open so the test can add rows first; close it before the server starts,
 * as a PGlite directory is one process's at a time.
 */
export async function migratedDataDir (t: Teardown): Promise<{ dataDir: string, db: Database }> {
  const dataDir = emptyDataDir(t)
  const db = await openDatabase({ kind: 'pglite', dataDir, loadDataDir: await migratedDump() })
  return { dataDir, db }
}

export const databaseKind = (): string => process.env.DATABASE_URL ? 'postgres' : 'pglite'
