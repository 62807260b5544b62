import fs from 'node:fs'
import path from 'node:path'
import type { PrismaClient } from '../generated/prisma/client.ts'

/** The migrations under `dir` (prisma/migrations) not yet applied to the database, by name, in order. */
export async function pendingMigrations (prisma: PrismaClient, dir: string): Promise<string[]> {
  const all = fs.readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
  // A database never migrated has no _prisma_migrations table (looked up on the search path).
  const [table] = await prisma.$queryRawUnsafe<Array<{ present: boolean }>>("SELECT to_regclass('_prisma_migrations') IS NOT NULL AS present")
  if (!table?.present) return all
  const rows = await prisma.$queryRawUnsafe<Array<{ migration_name: string }>>(
    'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL')
  const applied = new Set(rows.map((row) => row.migration_name))
  return all.filter((name) => !applied.has(name))
}
