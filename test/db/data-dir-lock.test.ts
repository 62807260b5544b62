import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { LOCK_FILE, lockDataDir, readHolder } from '../../src/db/data-dir-lock.ts'

function tempDir (t: { teardown: (fn: () => unknown) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xr-lock-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** The pid of a process that has exited. */
function deadPid (): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' })
  return Number(child.stdout.trim())
}

t.test('the lock names this process; a second opener is refused with who holds it and what to do', async (t) => {
  const dir = tempDir(t)
  const lock = lockDataDir(dir)
  t.teardown(() => lock.release())
  t.equal(readHolder(path.join(dir, LOCK_FILE))?.pid, process.pid, 'the file holds our pid')
  const err = t.throws(() => lockDataDir(dir)) as { code?: string, message?: string }
  t.equal(err.code, 'XR_ERR_DATA_DIR_LOCKED')
  t.match(err.message, String(process.pid), 'names the holder')
  t.match(err.message, path.join(dir, LOCK_FILE), 'names the file to remove when the holder is gone')
  t.equal(readHolder(path.join(dir, LOCK_FILE))?.pid, process.pid, 'the refused opener left the lock alone')
})

t.test('released, the directory can be taken again; release only removes our own lock', async (t) => {
  const dir = tempDir(t)
  lockDataDir(dir).release()
  t.notOk(fs.existsSync(path.join(dir, LOCK_FILE)), 'the file is gone')
  const again = lockDataDir(dir)
  // Someone took it over meanwhile (we were thought dead): our release must leave theirs.
  fs.writeFileSync(path.join(dir, LOCK_FILE), '1\nsomeone else\n2026-01-01T00:00:00.000Z\n')
  again.release()
  t.equal(readHolder(path.join(dir, LOCK_FILE))?.pid, 1, 'the other lock stays')
})

t.test('a lock left by a process that is gone is taken over', async (t) => {
  const dir = tempDir(t)
  const pid = deadPid()
  fs.writeFileSync(path.join(dir, LOCK_FILE), `${pid}\nnode src/server.ts\n2026-01-01T00:00:00.000Z\n`)
  const lock = lockDataDir(dir)
  t.teardown(() => lock.release())
  t.equal(readHolder(path.join(dir, LOCK_FILE))?.pid, process.pid, `the stale lock of ${pid} became ours`)
})

t.test('an unreadable lock file (no pid) counts as stale', async (t) => {
  const dir = tempDir(t)
  fs.writeFileSync(path.join(dir, LOCK_FILE), 'garbage')
  const lock = lockDataDir(dir)
  t.teardown(() => lock.release())
  t.equal(readHolder(path.join(dir, LOCK_FILE))?.pid, process.pid)
})
