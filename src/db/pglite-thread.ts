import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker, type ResourceLimits } from 'node:worker_threads'
import { DriverAdapterError, type IsolationLevel, type SqlDriverAdapter, type SqlMigrationAwareDriverAdapterFactory, type SqlQuery, type SqlResultSet, type Transaction, type TransactionOptions } from '@prisma/driver-adapter-utils'
import { shadowDatabase } from './pglite-factory.ts'
import type { ThreadCall, ThreadReply, WorkerOptions } from './pglite-thread-protocol.ts'

// Beside this module in the sources (src/db/), beside the bundle once built (dist/src/).
const HERE = fileURLToPath(import.meta.url)
const WORKER = path.join(path.dirname(HERE), `pglite-worker${path.extname(HERE)}`)

/**
 * Run from the sources (tests, the bench, tsx), the thread must compile TypeScript too, which
 * `--import tsx` does not give a worker: it registers tsx itself before loading its module.
 */
function startWorker (workerData: WorkerOptions, resourceLimits: ResourceLimits): Worker {
  if (path.extname(WORKER) !== '.ts') return new Worker(WORKER, { workerData, resourceLimits })
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  const entry = JSON.stringify(pathToFileURL(WORKER).href)
  return new Worker(`import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}) })`, { eval: true, workerData, resourceLimits })
}

/**
 * The thread's JavaScript allocates little (it hands rows between PGlite and the port), so a
 * small young generation is enough; V8's default one (some 48 MB) is resident memory for nothing
 * (test/bench/results/pglite-memory-2026-12-04.md).
 */
export const DATABASE_THREAD_YOUNG_GENERATION_MB = 4

type Call = ThreadCall extends infer C ? C extends { id: number } ? Omit<C, 'id'> : never : never

export interface PGliteThreadOptions extends WorkerOptions {
  /** Told of every crash of the thread and of every failed restart. */
  onCrash?: (err: Error, restarts: number) => void
  /** First wait before restarting a thread that failed to start again; doubles per failure up to maxRestartDelayMs. */
  restartDelayMs?: number
  maxRestartDelayMs?: number
  /** The thread's V8 heap limits (default: a young generation of DATABASE_THREAD_YOUNG_GENERATION_MB). */
  resourceLimits?: ResourceLimits
}

/** Calls in flight when the thread died, and calls on its transactions afterwards: the database was unreachable. */
const connectionClosed = (): Error => new DriverAdapterError({ kind: 'ConnectionClosed' })

function fromThread (error: NonNullable<ThreadReply['error']>): Error {
  if (error.name === 'DriverAdapterError' && typeof error.cause === 'object' && error.cause !== null) {
    return new DriverAdapterError(error.cause as ConstructorParameters<typeof DriverAdapterError>[0])
  }
  return Object.assign(new Error(error.message), { name: error.name, ...(error.code ? { code: error.code } : {}) })
}

interface Pending { resolve: (value: unknown) => void, reject: (err: Error) => void }

/**
 * The embedded PGlite database in a worker thread of its own (pglite-worker.ts), behind Prisma's
 * driver adapter interface: its queries run off the event loop that serves the sockets. Calls go
 * to the thread in the order they are made and PGlite runs them in that order. When the thread
 * dies, the calls in flight fail as "connection closed" (callers such as EntitiesState retry
 * them) and a new thread opens the same directory; calls made meanwhile wait for it.
 */
export class PGliteThread implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres' as const
  readonly adapterName = 'pglite-prisma-adapter (worker thread)'
  readonly #o: PGliteThreadOptions
  readonly #pending = new Map<number, Pending>()
  #worker: Worker | null = null
  /** Settles when the current thread is ready (or could not start). */
  #ready: Promise<void> = Promise.resolve()
  /** Counts threads started: a transaction belongs to the one it was opened in. */
  #generation = 0
  #nextId = 1
  #restarts = 0
  #closed = false

  private constructor (options: PGliteThreadOptions) {
    this.#o = options
  }

  /** Starts the thread and resolves once its database is open. */
  static async open (options: PGliteThreadOptions): Promise<PGliteThread> {
    const thread = new PGliteThread(options)
    thread.#ready = thread.#start()
    try {
      await thread.#ready
    } catch (err) {
      await thread.close()
      throw err
    }
    return thread
  }

  /** Threads started after a crash. */
  get restarts (): number {
    return this.#restarts
  }

  async connect (): Promise<SqlDriverAdapter> {
    const queryable = (tx?: { id: number, generation: number }) => ({
      provider: this.provider,
      adapterName: this.adapterName,
      queryRaw: async (query: SqlQuery) => await this.#call({ op: 'queryRaw', query, tx: tx?.id }, tx?.generation) as SqlResultSet,
      executeRaw: async (query: SqlQuery) => await this.#call({ op: 'executeRaw', query, tx: tx?.id }, tx?.generation) as number
    })
    return {
      ...queryable(),
      executeScript: async (script: string) => { await this.#call({ op: 'executeScript', script }) },
      startTransaction: async (isolationLevel?: IsolationLevel): Promise<Transaction> => {
        await this.#ready.catch(() => {})
        const generation = this.#generation
        const opened = await this.#call({ op: 'startTransaction', isolationLevel }, generation) as { tx: number, options: TransactionOptions }
        const tx = { id: opened.tx, generation }
        return {
          ...queryable(tx),
          options: opened.options,
          commit: async () => { await this.#call({ op: 'commit', tx: tx.id }, generation) },
          rollback: async () => { await this.#call({ op: 'rollback', tx: tx.id }, generation) }
        }
      },
      getConnectionInfo: () => ({ supportsRelationJoins: true }),
      // The thread outlives Prisma's connection: close() ends it.
      dispose: async () => {}
    }
  }

  async connectToShadowDb (): Promise<SqlDriverAdapter> {
    return await shadowDatabase()
  }

  async ping (): Promise<void> {
    await this.#call({ op: 'ping' })
  }

  /** Ends the thread for a test of what follows a crash, as if it had died. */
  crashForTest (): void {
    void this.#worker?.terminate()
  }

  /** Closes the database cleanly, then ends the thread. Idempotent. */
  async close (): Promise<void> {
    if (this.#closed) return
    const worker = this.#worker
    const ready = this.#ready.then(() => true, () => false)
    if (worker && await ready) await this.#call({ op: 'close' }).catch(() => {})
    this.#closed = true
    this.#rejectPending(connectionClosed())
    await worker?.terminate()
    this.#worker = null
  }

  /** `generation`: the thread the call belongs to (a transaction's); it fails if that thread is gone. */
  async #call (call: Call, generation?: number): Promise<unknown> {
    // A thread that could not start again: unreachable, as a PostgreSQL server would be.
    if (generation === undefined) await this.#ready.catch(() => { throw connectionClosed() })
    if (this.#closed && call.op !== 'close') throw connectionClosed()
    const worker = this.#worker
    if (!worker || (generation !== undefined && generation !== this.#generation)) throw connectionClosed()
    const id = this.#nextId++
    return await new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      worker.postMessage({ ...call, id } as ThreadCall)
    })
  }

  #start (): Promise<void> {
    const { dataDir, loadDataDir, startParams } = this.#o
    const worker = startWorker({ dataDir, loadDataDir, startParams }, this.#o.resourceLimits ?? { maxYoungGenerationSizeMb: DATABASE_THREAD_YOUNG_GENERATION_MB })
    this.#worker = worker
    this.#generation++
    return new Promise<void>((resolve, reject) => {
      let started = false
      worker.on('message', (reply: ThreadReply) => {
        if (reply.id === 0) {
          if (reply.error) {
            reject(fromThread(reply.error))
            void worker.terminate()
            return
          }
          started = true
          resolve()
          return
        }
        const pending = this.#pending.get(reply.id)
        if (!pending) return
        this.#pending.delete(reply.id)
        if (reply.error) pending.reject(fromThread(reply.error))
        else pending.resolve(reply.value)
      })
      worker.on('error', (err) => { if (!started) reject(err) })
      worker.on('exit', (code) => {
        if (this.#worker === worker) this.#worker = null
        // One that never opened the database: its start failed, and #restart tries again.
        if (!started) {
          reject(new Error(`the database thread exited (code ${code}) before it opened the database`))
          return
        }
        this.#rejectPending(connectionClosed())
        if (!this.#closed && this.#worker === null) this.#restart(new Error(`the database thread exited with code ${code}`))
      })
    })
  }

  #restart (cause: Error, attempt = 0): void {
    this.#restarts++
    this.#o.onCrash?.(cause, this.#restarts)
    const delay = attempt === 0 ? 0 : Math.min((this.#o.restartDelayMs ?? 100) * 2 ** (attempt - 1), this.#o.maxRestartDelayMs ?? 5000)
    this.#ready = new Promise<void>((resolve) => setTimeout(resolve, delay)).then(async () => {
      if (this.#closed) throw connectionClosed()
      await this.#start()
    })
    this.#ready.catch((err: unknown) => {
      if (!this.#closed) this.#restart(err as Error, attempt + 1)
    })
  }

  #rejectPending (err: Error): void {
    for (const pending of this.#pending.values()) pending.reject(err)
    this.#pending.clear()
  }
}
