import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import { DriverAdapterError, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import { lockDataDir } from './data-dir-lock.ts'
import { PGliteFactory } from './pglite-factory.ts'
import { PGliteThread } from './pglite-thread.ts'

/** Which database to open: real PostgreSQL by URL, else an embedded PGlite directory. */
export type DatabaseTarget =
  | { kind: 'postgres', url: string, schema?: string }
  | {
    kind: 'pglite'
    dataDir?: string
    loadDataDir?: Blob
    /**
     * Runs PGlite in a worker thread of its own (pglite-thread.ts), so that queries do not block
     * the event loop; the server does. Short-lived tools (migrations, seed) run it in-thread.
     */
    thread?: boolean
  }

export interface OpenedAdapter {
  factory: SqlMigrationAwareDriverAdapterFactory
  /** Releases what was opened (the PGlite instance or the pg pool). */
  close: () => Promise<void>
  /** Cheap round trip used by readiness checks. */
  ping: () => Promise<void>
}

/**
 * A DATABASE_URL may name a schema as Prisma's URLs do (`?schema=name`): tables are looked up
 * there. The parameter is taken off the URL the driver gets.
 */
export function databaseTarget (databaseUrl: string | undefined, dataDir: string, { thread = false } = {}): DatabaseTarget {
  if (!databaseUrl) return { kind: 'pglite', dataDir, thread }
  let parsed: URL
  try {
    parsed = new URL(databaseUrl)
  } catch {
    return { kind: 'postgres', url: databaseUrl }
  }
  const schema = parsed.searchParams.get('schema')
  if (!schema) return { kind: 'postgres', url: databaseUrl }
  if (!/^[A-Za-z_][A-Za-z0-9_$]*$/.test(schema)) throw new Error(`DATABASE_URL: invalid schema name "${schema}"`)
  parsed.searchParams.delete('schema')
  return { kind: 'postgres', url: parsed.toString(), schema }
}

// PostgreSQL's `name` type (oid 19, array 1003) is missing from adapter-pg 6.19's
// column-type mapping, which breaks the JS schema engine's introspection
// (prisma/prisma#27403). Reporting those columns as text/text[] is exact: pg parses them as strings.
const NAME_OID = 19
const NAME_ARRAY_OID = 1003
const TEXT_OID = 25
const TEXT_ARRAY_OID = 1009

function remapNameColumns<R> (result: R): R {
  const fields = (result as { fields?: Array<{ dataTypeID: number }> } | undefined)?.fields
  if (fields) {
    for (const field of fields) {
      if (field.dataTypeID === NAME_OID) field.dataTypeID = TEXT_OID
      else if (field.dataTypeID === NAME_ARRAY_OID) field.dataTypeID = TEXT_ARRAY_OID
    }
  }
  return result
}

class NameAwareClient extends pg.Client {
  // pg's query has many overloads: the pool calls it with a callback, a client with a promise.
  query (...args: unknown[]): any {
    const last = args.length - 1
    const callback = args[last]
    if (typeof callback === 'function') {
      args[last] = (err: unknown, result: unknown) => callback(err, err ? result : remapNameColumns(result))
    }
    const result = (super.query as (...a: unknown[]) => unknown)(...args)
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      return (result as Promise<unknown>).then(remapNameColumns)
    }
    return result
  }
}

/**
 * adapter-pg 6.19 runs a migration script by splitting it at every ";", which cuts a function body
 * (`$$ … $$`, prisma/migrations/20261204000000_apply_entities_diff) apart. A query without
 * parameters goes by PostgreSQL's simple protocol, which runs a whole script as sent: the script
 * goes in one piece, and in one round trip.
 */
class WholeScriptPg extends PrismaPg {
  constructor (private readonly pool: pg.Pool, options: ConstructorParameters<typeof PrismaPg>[1]) {
    super(pool, options)
  }

  override async connect (): ReturnType<PrismaPg['connect']> {
    const adapter = await super.connect()
    adapter.executeScript = async (script) => {
      try {
        await this.pool.query(script)
      } catch (err) {
        const e = err as pg.DatabaseError
        if (typeof e.code !== 'string') throw err
        throw new DriverAdapterError({ kind: 'postgres', code: e.code, severity: e.severity ?? 'ERROR', message: e.message, detail: e.detail, column: e.column, hint: e.hint, originalCode: e.code, originalMessage: e.message })
      }
    }
    return adapter
  }
}

function openPostgres (url: string, schema?: string): OpenedAdapter {
  const pool = new pg.Pool({
    connectionString: url,
    Client: NameAwareClient as unknown as typeof pg.Client,
    max: 10,
    // An unreachable server must fail a request, not hang it (pages answer 503 meanwhile).
    connectionTimeoutMillis: 5_000,
    ...(schema ? { options: `-c search_path="${schema}"` } : {})
  })
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  return {
    factory: new WholeScriptPg(pool, { disposeExternalPool: false, ...(schema ? { schema } : {}) }),
    close: async () => { await pool.end() },
    ping: async () => { await pool.query('SELECT 1') }
  }
}

export const PGLITE_START_PARAMS = [
  ...PGlite.defaultStartParams,
  // After an unclean stop PGlite re-arms Postgres' startup-progress timer forever, which keeps
  // Node's event loop (and so any CLI) alive; the log it feeds is unused.
  '-c', 'log_startup_progress_interval=0',
  // Postgres touches all of its shared buffers at start: PGlite's 128 MB were resident memory from
  // the first second. A room's world is small and the files sit in the OS's page cache anyway
  // (test/bench/results/pglite-memory-2026-12-04.md).
  '-c', 'shared_buffers=16MB'
]

async function openPGlite (target: Extract<DatabaseTarget, { kind: 'pglite' }>, closeBeforeExit: boolean, onCrash?: (err: Error) => void): Promise<OpenedAdapter> {
  if (target.dataDir) fs.mkdirSync(path.dirname(target.dataDir), { recursive: true })
  // Before PGlite reads a byte: a second opener must not disturb the one running.
  const lock = target.dataDir ? lockDataDir(target.dataDir) : null
  const { dataDir, loadDataDir } = target
  let db: PGlite | PGliteThread
  try {
    db = target.thread
      ? await PGliteThread.open({ dataDir, loadDataDir, startParams: PGLITE_START_PARAMS, onCrash })
      : await PGlite.create({ dataDir, loadDataDir, startParams: PGLITE_START_PARAMS })
  } catch (err) {
    lock?.release()
    throw err
  }
  if (db instanceof PGliteThread) {
    const thread = db
    return {
      factory: thread,
      close: async () => {
        await thread.close()
        lock?.release()
      },
      ping: () => thread.ping()
    }
  }
  const close = async (): Promise<void> => {
    if (!db.closed) await db.close()
    lock?.release()
  }
  if (closeBeforeExit) process.once('beforeExit', () => { void close() })
  return {
    factory: new PGliteFactory(db),
    close,
    ping: async () => { await db.query('SELECT 1') }
  }
}

/**
 * Opens the database. `closeBeforeExit` is for the Prisma CLI, which never disposes its
 * adapter: PGlite is then closed cleanly once the CLI has nothing left to do.
 */
export async function openAdapter (target: DatabaseTarget, { closeBeforeExit = false, onCrash }: { closeBeforeExit?: boolean, onCrash?: (err: Error) => void } = {}): Promise<OpenedAdapter> {
  return target.kind === 'postgres' ? openPostgres(target.url, target.schema) : await openPGlite(target, closeBeforeExit, onCrash)
}
