import type { IsolationLevel, SqlQuery } from '@prisma/driver-adapter-utils'

/** What the database thread is opened with (structured-cloned into it). */
export interface WorkerOptions {
  dataDir?: string
  loadDataDir?: Blob
  startParams: string[]
}

/** One driver adapter call, posted to the database thread; `tx` names an open transaction. */
export type ThreadCall = { id: number } & (
  | { op: 'queryRaw' | 'executeRaw', query: SqlQuery, tx?: number }
  | { op: 'executeScript', script: string }
  | { op: 'startTransaction', isolationLevel?: IsolationLevel }
  | { op: 'commit' | 'rollback', tx: number }
  | { op: 'ping' | 'close' }
)

/** The thread's answer to call `id` (0: the thread is ready, or could not open the database). */
export interface ThreadReply {
  id: number
  value?: unknown
  error?: { name: string, message: string, cause?: unknown, code?: string }
}
