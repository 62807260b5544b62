import path from 'node:path'
import { defineConfig } from 'prisma/config'
import { databaseTarget, openAdapter, type OpenedAdapter } from './src/db/adapter.ts'

let opened: Promise<OpenedAdapter> | undefined

// Migrations run through Prisma's bundled WebAssembly schema engine over our driver
// adapter, so no native engine binary is needed or downloaded.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= '/nonexistent/prisma-schema-engine'
process.env.PRISMA_QUERY_ENGINE_LIBRARY ??= '/nonexistent/prisma-query-engine'
process.env.PRISMA_PLACEHOLDER_URL ??= 'postgresql://adapter/placeholder'
// The update check phones home; with no route out it only delays exit.
process.env.CHECKPOINT_DISABLE ??= '1'

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join('prisma', 'schema.prisma'),
  migrations: {
    path: path.join('prisma', 'migrations'),
    seed: 'tsx prisma/seed.ts'
  },
  // The CLI may ask more than once: one database per CLI process (the embedded one allows no more).
  async adapter () {
    const target = databaseTarget(process.env.DATABASE_URL || undefined, path.resolve(process.env.DATA_DIR || 'data'))
    opened ??= openAdapter(target, { closeBeforeExit: true })
    return (await opened).factory
  }
})
