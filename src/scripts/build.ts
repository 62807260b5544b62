import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { buildClient, isClientBundleStale } from './build-client.ts'
import { isStale, serverBundles } from './freshness.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const DIST_DIR = path.join(ROOT, 'dist', 'src')
// The embedded database's worker thread is loaded from beside the server bundle (src/db/pglite-thread.ts).
const ENTRIES = { server: path.join(ROOT, 'src', 'server.ts'), setup: path.join(ROOT, 'src', 'scripts', 'setup.ts'), 'pglite-worker': path.join(ROOT, 'src', 'db', 'pglite-worker.ts') }

/**
 * Bundles the server, its start-up script and the database thread with esbuild: one ES module each, packages left to
 * node_modules, source maps for stack traces. esbuild resolves the sources' `.ts` imports as
 * they are; the same tool already builds the browser client.
 */
export async function buildServer (): Promise<void> {
  await bundleForNode(ENTRIES, DIST_DIR)
}

/** Bundles `entries` (name → source) into `outdir` as the server is bundled. */
export async function bundleForNode (entries: Record<string, string>, outdir: string): Promise<void> {
  await build({
    entryPoints: entries,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning'
  })
}

async function main (argv: string[]): Promise<void> {
  const force = argv.includes('--force')
  if (force || isClientBundleStale()) {
    const result = await buildClient()
    for (const w of result.warnings) console.warn(`warning: ${w.text}`)
    console.log(`built the browser client (${(result.bytes / 1024).toFixed(1)} KiB)`)
  }
  if (force || isStale(serverBundles(ROOT), [path.join(ROOT, 'src'), path.join(ROOT, 'prisma')])) {
    await buildServer()
    console.log(`built the server in ${path.relative(process.cwd(), DIST_DIR)}`)
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err)
    process.exitCode = 1
  })
}
