import { PGlite } from '@electric-sql/pglite'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'

/**
 * pglite-prisma-adapter 0.6 has two gaps: executeScript does not await PGlite's exec
 * (errors from migration scripts would be lost) and dispose() leaves PGlite open.
 * We fix executeScript here; closing is ours to do through OpenedAdapter.close.
 */
export class PGliteFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres' as const
  readonly adapterName: string
  private readonly inner: SqlMigrationAwareDriverAdapterFactory

  constructor (private readonly db: PGlite) {
    // The adapter is built against an older @prisma/driver-adapter-utils; the runtime
    // contract is the same, only the type declarations differ.
    this.inner = new PrismaPGlite(db) as unknown as SqlMigrationAwareDriverAdapterFactory
    this.adapterName = this.inner.adapterName
  }

  async connect (): Promise<SqlDriverAdapter> {
    return fixed(await this.inner.connect(), this.db)
  }

  async connectToShadowDb (): Promise<SqlDriverAdapter> {
    return await shadowDatabase()
  }
}

function fixed (adapter: SqlDriverAdapter, db: PGlite): SqlDriverAdapter {
  adapter.executeScript = async (script: string) => { await db.exec(script) }
  return adapter
}

/** A throw-away in-memory database for `prisma migrate dev`, closed with its adapter. */
export async function shadowDatabase (): Promise<SqlDriverAdapter> {
  const shadow = await PGlite.create()
  const adapter = fixed(await (new PrismaPGlite(shadow) as unknown as SqlMigrationAwareDriverAdapterFactory).connect(), shadow)
  const dispose = adapter.dispose.bind(adapter)
  adapter.dispose = async () => { await dispose(); await shadow.close() }
  return adapter
}
