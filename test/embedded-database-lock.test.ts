// Real processes on one embedded database directory: the server, a second server, the Prisma CLI.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import readline from 'node:readline'
import t from 'tap'
import { migratedDataDir } from './helpers/database.ts'
import { SECRET, within } from './channels/fixtures/room-server.ts'

const ROOT = path.resolve(import.meta.dirname, '..')
const env = (dataDir: string): NodeJS.ProcessEnv => ({ ...process.env, DATABASE_URL: '', REDIS_URL: '', DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: 'json', SECRET_KEY_BASE: SECRET })

interface Run { child: ChildProcess, output: () => string, exited: Promise<[number | null, string | null]> }

function run (t: { teardown: (fn: () => unknown) => void }, args: string[], dataDir: string): Run {
  const child = spawn(args[0]!, args.slice(1), { cwd: ROOT, env: env(dataDir), stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString() })
  return { child, output: () => output, exited: once(child, 'exit') as Promise<[number | null, string | null]> }
}

const server = (t: { teardown: (fn: () => unknown) => void }, dataDir: string): Run => run(t, [process.execPath, '--import', 'tsx', 'src/server.ts'], dataDir)

async function listening (started: Run): Promise<number> {
  return await within(new Promise<number>((resolve, reject) => {
    readline.createInterface({ input: started.child.stdout! }).on('line', (line) => {
      const port = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(line)?.[1]
      if (port) resolve(Number(port))
    })
    started.child.once('exit', (code) => reject(new Error(`the server exited (${code}): ${started.output()}`)))
  }), 'the server to listen', 60_000)
}

t.test('one process owns the embedded database: others are refused with a clear message, the owner is not disturbed, a dead owner\'s lock is taken over', async (t) => {
  const { dataDir, db } = await migratedDataDir(t)
  await db.close()

  const owner = server(t, dataDir)
  const port = await listening(owner)
  const pid = String(owner.child.pid)

  const second = server(t, dataDir)
  const [secondCode] = await within(second.exited, 'the second server to give up', 60_000)
  t.not(secondCode, 0, 'a second server exits with an error')
  t.match(second.output(), 'Only one process may open it at a time', 'saying why and what to do')
  t.match(second.output(), `in use by process ${pid}`, 'naming the owner')
  t.notMatch(second.output(), 'Aborted()', 'not a WebAssembly abort')

  const cli = run(t, [path.join(ROOT, 'node_modules', '.bin', 'prisma'), 'migrate', 'deploy'], dataDir)
  const [cliCode] = await within(cli.exited, 'prisma migrate deploy to give up', 90_000)
  t.not(cliCode, 0, 'prisma migrate deploy is refused')
  t.match(cli.output(), `in use by process ${pid}`, 'with the same message')

  const ready = await fetch(`http://127.0.0.1:${port}/readyz`)
  t.equal(ready.status, 200, 'the owner still answers from its database')
  const page = await fetch(`http://127.0.0.1:${port}/rooms`)
  t.equal(page.status, 200, 'and serves its pages')
  t.equal(owner.child.exitCode, null, 'the owner still runs')

  owner.child.kill('SIGKILL')
  await owner.exited
  const next = server(t, dataDir)
  const nextPort = await listening(next)
  t.equal((await fetch(`http://127.0.0.1:${nextPort}/readyz`)).status, 200, 'after a SIGKILL the next server takes the stale lock over')
  next.child.kill('SIGTERM')
  const [nextCode] = await within(next.exited, 'the server to stop')
  t.equal(nextCode, 0)
})
