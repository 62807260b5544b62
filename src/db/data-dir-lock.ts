import fs from 'node:fs'
import path from 'node:path'
import { Errors } from '../errors.ts'

/** The lock's file, inside the data directory (PGlite ignores it, as PostgreSQL does its postmaster.pid). */
export const LOCK_FILE = 'xr-rooms.pid'

export interface DataDirLock {
  /** Removes the lock file if it is still this process's; idempotent. */
  release: () => void
}

/** Who holds a lock, as its file says: the pid on the first line, then the command and start time. */
export interface LockHolder { pid: number, command: string, since: string }

/**
 * Takes the embedded database's directory for this process, as PostgreSQL's postmaster.pid
 * does: two PGlite instances on one directory would corrupt it, so a second opener (a second
 * server, or the Prisma CLI while the server runs) is refused before it touches a file. A lock
 * left by a process that is gone (SIGKILL, a crash) is taken over. Released when the database
 * closes, and at the latest when the process exits.
 */
export function lockDataDir (dataDir: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true })
  const file = path.join(dataDir, LOCK_FILE)
  const content = `${process.pid}\n${process.argv.slice(1).join(' ')}\n${new Date().toISOString()}\n`
  // A few rounds: another opener may be taking over the same stale lock at the same time.
  for (let attempt = 0; attempt < 5; attempt++) {
    if (create(file, content)) return held(file, content)
    const holder = readHolder(file)
    if (holder && isAlive(holder.pid)) throw new Errors.DataDirLocked(path.resolve(dataDir), holder.pid, holder.command, holder.since, file)
    removeStale(file, holder)
  }
  throw new Error(`could not take the lock ${file}: other processes keep taking it`)
}

/** Creates the lock file complete or not at all (a link never shows a half-written file). */
function create (file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, content, { mode: 0o644 })
  try {
    fs.linkSync(tmp, file)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return false
  } finally {
    fs.unlinkSync(tmp)
  }
}

function held (file: string, content: string): DataDirLock {
  let released = false
  const release = (): void => {
    if (released) return
    released = true
    process.off('exit', release)
    try {
      // Only our own: after a takeover (we were thought dead) the file is another's.
      if (fs.readFileSync(file, 'utf8') === content) fs.unlinkSync(file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
  process.on('exit', release)
  return { release }
}

export function readHolder (file: string): LockHolder | null {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  const [pid = '', command = '', since = ''] = text.split('\n')
  return /^\d+$/.test(pid) ? { pid: Number(pid), command, since } : null
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Removes a stale lock unless it changed since it was read (another opener took it over first). */
function removeStale (file: string, seen: LockHolder | null): void {
  const now = readHolder(file)
  if (now?.pid !== seen?.pid) return
  try {
    fs.unlinkSync(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}
