import { buildApp } from './app.ts'
import { loadConfig } from './config.ts'

// Reads the environment, listens, and closes gracefully on SIGTERM/SIGINT.
const config = loadConfig()
const app = await buildApp({ config }).catch((err: unknown) => {
  // Another process owns the embedded database: its message says what to do, a stack would not.
  if ((err as { code?: string }).code !== 'XR_ERR_DATA_DIR_LOCKED') throw err
  console.error((err as Error).message)
  process.exit(1)
})

const SHUTDOWN_TIMEOUT_MS = 15_000
let shuttingDown = false
async function shutdown (signal: string): Promise<void> {
  if (shuttingDown) return
  shuttingDown = true
  app.log.info({ signal }, 'shutting down')
  const timer = setTimeout(() => {
    app.log.error('shutdown took too long; exiting')
    process.exit(1)
  }, SHUTDOWN_TIMEOUT_MS)
  timer.unref()
  try {
    await app.close()
    process.exit(0)
  } catch (err) {
    app.log.error({ err }, 'error while shutting down')
    process.exit(1)
  }
}
process.once('SIGTERM', () => { void shutdown('SIGTERM') })
process.once('SIGINT', () => { void shutdown('SIGINT') })

await app.listen({ port: config.port, host: config.host })
