/**
 * A tiny request/response protocol over Node's IPC channel, between the bench orchestrator and
 * its children (a target server, the load generator). The children run TypeScript through tsx
 * and can be pinned to one CPU core each with taskset.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import os from 'node:os'

interface Request { id: number, cmd: string, args: unknown }
interface Response { id: number, ok: boolean, result?: unknown, error?: string }

export type Handlers = Record<string, (args: any) => unknown>

/** In a child: answers the parent's requests with `handlers` (a thrown error becomes a rejection there). */
export function serve (handlers: Handlers): void {
  if (!process.send) throw new Error('serve() needs an IPC channel: start this file with fork()')
  process.on('message', (message: Request) => {
    const handler = handlers[message.cmd]
    const answer = (response: Response): void => { process.send?.(response) }
    if (!handler) {
      answer({ id: message.id, ok: false, error: `unknown command ${message.cmd}` })
      return
    }
    Promise.resolve()
      .then(() => handler(message.args))
      .then(
        (result) => answer({ id: message.id, ok: true, result }),
        (err: unknown) => answer({ id: message.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) })
      )
  })
  // The parent going away ends the child.
  process.on('disconnect', () => process.exit(0))
}

let tasksetAvailable: boolean | undefined

/** Whether children can be pinned to distinct cores: taskset exists and there are two cores or more. */
export function canPin (): boolean {
  if (tasksetAvailable === undefined) {
    tasksetAvailable = os.availableParallelism() >= 2 && spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0
  }
  return tasksetAvailable
}

/** Pins every thread of `pid` (and the threads it starts later) to `core`; false when it cannot. */
export function pin (pid: number, core: number): boolean {
  if (!canPin()) return false
  return spawnSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' }).status === 0
}

export interface ChildOptions {
  args?: string[]
  /** Extra node flags (e.g. --cpu-prof); --expose-gc is always there, and tsx for a .ts file. */
  execArgv?: string[]
  env?: Record<string, string | undefined>
  /** Core to pin the child to, when pinning is possible. */
  core?: number
  label?: string
}

/** A forked child that answers requests (see serve). */
export class Child {
  readonly #child: ChildProcess
  readonly #pending = new Map<number, { resolve: (value: unknown) => void, reject: (err: Error) => void }>()
  readonly label: string
  readonly pinned: boolean
  #nextId = 1
  #exited: Promise<unknown>

  private constructor (child: ChildProcess, label: string, pinned: boolean) {
    this.#child = child
    this.label = label
    this.pinned = pinned
    this.#exited = once(child, 'exit')
    child.on('message', (message: Response) => {
      const pending = this.#pending.get(message.id)
      if (!pending) return
      this.#pending.delete(message.id)
      if (message.ok) pending.resolve(message.result)
      else pending.reject(new Error(`${label}: ${message.error ?? 'failed'}`))
    })
    child.on('exit', (code, signal) => {
      for (const pending of this.#pending.values()) pending.reject(new Error(`${label} exited (${code ?? signal})`))
      this.#pending.clear()
    })
  }

  static start (file: string, options: ChildOptions = {}): Child {
    const child = fork(file, options.args ?? [], {
      execArgv: [...(file.endsWith('.ts') ? ['--import', 'tsx'] : []), '--expose-gc', ...(options.execArgv ?? [])],
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    const pinned = options.core !== undefined && child.pid !== undefined && pin(child.pid, options.core)
    return new Child(child, options.label ?? file, pinned)
  }

  get pid (): number | undefined {
    return this.#child.pid
  }

  call<T = unknown> (cmd: string, args?: unknown, timeoutMs = 120_000): Promise<T> {
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`${this.label}: ${cmd} timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.#pending.set(id, {
        resolve: (value) => { clearTimeout(timer); resolve(value as T) },
        reject: (err) => { clearTimeout(timer); reject(err) }
      })
      this.#child.send({ id, cmd, args } satisfies Request)
    })
  }

  /** Asks the child to stop (its `stop` command exits the process), killing it if it does not within `ms`. */
  async stop (ms = 15_000): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return
    this.call('stop', undefined, ms).catch(() => {})
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), ms)
    await this.#exited
    clearTimeout(timer)
  }
}
