import { PrismaClient } from '../generated/prisma/client.ts'
import { databaseTarget, openAdapter, type DatabaseTarget, type OpenedAdapter } from './adapter.ts'

/** An open database: the Prisma client plus what it takes to check and close it. */
export interface Database {
  readonly prisma: PrismaClient
  readonly kind: 'pglite' | 'postgres'
  ping: () => Promise<void>
  close: () => Promise<void>
}

export function databaseFromAdapter (opened: OpenedAdapter, kind: Database['kind']): Database {
  const prisma = new PrismaClient({ adapter: opened.factory })
  let closing: Promise<void> | undefined
  return {
    prisma,
    kind,
    ping: opened.ping,
    close: () => {
      closing ??= (async () => {
        await prisma.$disconnect()
        await opened.close()
      })()
      return closing
    }
  }
}

/** Opens PostgreSQL when a URL is given, else the embedded PGlite database in dataDir. */
export async function openDatabase (target: DatabaseTarget, options: { onCrash?: (err: Error) => void } = {}): Promise<Database> {
  return databaseFromAdapter(await openAdapter(target, options), target.kind)
}

export { databaseTarget }
