/**
 * The embedded database's thread (see pglite-thread.ts): opens PGlite and serves the Prisma
 * driver adapter's calls posted to it, so that PostgreSQL's work never blocks the sockets.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'
import type { SqlDriverAdapter, Transaction } from '@prisma/driver-adapter-utils'
import { PGliteFactory } from './pglite-factory.ts'
import type { ThreadCall, ThreadReply, WorkerOptions } from './pglite-thread-protocol.ts'

const port = parentPort!
const options = workerData as WorkerOptions

/** Errors cross the thread as plain data; DriverAdapterError's `cause` is what Prisma reads. */
function plainError (err: unknown): ThreadReply['error'] {
  const e = err as { name?: unknown, message?: unknown, cause?: unknown, code?: unknown }
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(err),
    cause: typeof e?.cause === 'object' && e.cause !== null ? structuredClone(e.cause) : undefined,
    code: typeof e?.code === 'string' ? e.code : undefined
  }
}

async function serve (): Promise<void> {
  const db = await PGlite.create({ dataDir: options.dataDir, loadDataDir: options.loadDataDir, startParams: options.startParams })
  const adapter: SqlDriverAdapter = await new PGliteFactory(db).connect()
  const transactions = new Map<number, Transaction>()
  let nextTx = 1

  const run = async (call: ThreadCall): Promise<unknown> => {
    switch (call.op) {
      case 'queryRaw': return await (call.tx ? transactionOf(call.tx) : adapter).queryRaw(call.query)
      case 'executeRaw': return await (call.tx ? transactionOf(call.tx) : adapter).executeRaw(call.query)
      case 'executeScript': return await adapter.executeScript(call.script)
      case 'startTransaction': {
        const tx = await adapter.startTransaction(call.isolationLevel)
        const id = nextTx++
        transactions.set(id, tx)
        return { tx: id, options: tx.options }
      }
      case 'commit':
      case 'rollback': {
        const tx = transactionOf(call.tx)
        transactions.delete(call.tx)
        return await tx[call.op]()
      }
      case 'ping': return await db.query('SELECT 1').then(() => undefined)
      case 'close': {
        await db.close()
        return undefined
      }
    }
  }
  const transactionOf = (id: number): Transaction => {
    const tx = transactions.get(id)
    if (!tx) throw new Error(`no open transaction ${id}`)
    return tx
  }

  port.on('message', (call: ThreadCall) => {
    run(call).then(
      (value) => { port.postMessage({ id: call.id, value } satisfies ThreadReply) },
      (err: unknown) => { port.postMessage({ id: call.id, error: plainError(err) } satisfies ThreadReply) }
    )
  })
  port.postMessage({ id: 0, value: 'ready' } satisfies ThreadReply)
}

serve().catch((err: unknown) => {
  port.postMessage({ id: 0, error: plainError(err) } satisfies ThreadReply)
})
