/**
 * What the embedded database costs in resident memory, per setting tried (the README's Performance
 * section): each variant opens a migrated data directory in the database thread, as the server
 * does, in a fresh process, runs a small world's work through it, and reports how much the
 * process's RSS grew. Three processes per variant; medians ± half the range.
 *
 *   npm run bench:pglite-memory
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { ResourceLimits } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'
import { PGLITE_START_PARAMS } from '../../src/db/adapter.ts'
import { PGliteThread } from '../../src/db/pglite-thread.ts'
import { migratedDump } from '../helpers/database.ts'
import { median, spread } from './results.ts'

/** `resourceLimits`: the database thread's; absent, the server's default. */
interface Variant { name: string, params: string[], resourceLimits?: ResourceLimits, v8Flags?: string[] }

/** PGlite's default start parameters with the startup-progress fix alone: its memory settings as shipped. */
const shipped = [...PGlite.defaultStartParams, '-c', 'log_startup_progress_interval=0']
const VARIANTS: Variant[] = [
  { name: 'PGlite defaults (shared_buffers 128MB), V8 default young generation', params: shipped, resourceLimits: {} },
  { name: 'shared_buffers 16MB', params: [...shipped, '-c', 'shared_buffers=16MB'], resourceLimits: {} },
  { name: 'shared_buffers 8MB', params: [...shipped, '-c', 'shared_buffers=8MB'], resourceLimits: {} },
  { name: 'shared_buffers 16MB, max_connections 4', params: [...shipped, '-c', 'shared_buffers=16MB', '-c', 'max_connections=4'], resourceLimits: {} },
  { name: 'shared_buffers 16MB, work_mem 1MB, wal_buffers 256kB', params: [...shipped, '-c', 'shared_buffers=16MB', '-c', 'work_mem=1MB', '-c', 'wal_buffers=256kB'], resourceLimits: {} },
  { name: 'shared_buffers 16MB, young generation 4 MB', params: [...shipped, '-c', 'shared_buffers=16MB'], resourceLimits: { maxYoungGenerationSizeMb: 4 } },
  { name: 'the server\'s settings (PGLITE_START_PARAMS, DATABASE_THREAD_YOUNG_GENERATION_MB)', params: PGLITE_START_PARAMS },
  { name: 'the server\'s settings, V8 --wasm-lazy-compilation', params: PGLITE_START_PARAMS, v8Flags: ['--wasm-lazy-compilation'] },
  { name: 'the server\'s settings, V8 --no-liftoff', params: PGLITE_START_PARAMS, v8Flags: ['--no-liftoff'] }
]
const RUNS = 3
const ENTITIES = 10_000
const MB = 1024 * 1024

interface ChildResult { openedMB: number, workedMB: number }

/** In the child: opens the database thread, works it, and prints the RSS growth as JSON. */
async function child (dataDir: string, variant: Variant): Promise<void> {
  const rss = (): number => process.memoryUsage().rss
  const before = rss()
  const thread = await PGliteThread.open({ dataDir, startParams: variant.params, resourceLimits: variant.resourceLimits })
  const opened = rss()
  const db = await thread.connect()
  await db.executeScript('CREATE TABLE probe (entity text, component text, value jsonb, PRIMARY KEY (entity, component))')
  // A 10,000-entity world written in batches, then 2,000 single-row updates (moves of objects) and full reads (joins).
  for (let i = 0; i < ENTITIES; i += 500) {
    await db.executeScript(`INSERT INTO probe SELECT 'e' || g, 'position', jsonb_build_array(g, 1.5, -g) FROM generate_series(${i}, ${i + 499}) g`)
  }
  for (let i = 0; i < 2000; i++) {
    await db.executeRaw({ sql: 'UPDATE probe SET value = $1::jsonb WHERE entity = $2 AND component = $3', args: [JSON.stringify([i, 1, i]), `e${i % ENTITIES}`, 'position'], argTypes: ['Json', 'Text', 'Text'] } as never)
  }
  for (let i = 0; i < 20; i++) await db.queryRaw({ sql: 'SELECT entity, component, value FROM probe', args: [], argTypes: [] } as never)
  const worked = rss()
  await thread.close()
  const result: ChildResult = { openedMB: (opened - before) / MB, workedMB: (worked - before) / MB }
  process.stdout.write(JSON.stringify(result))
}

const cell = (xs: number[]): string => `${median(xs).toFixed(0)} ±${spread(xs).toFixed(0)}%`

async function main (): Promise<void> {
  const template = fs.mkdtempSync(path.join(os.tmpdir(), 'xr-rooms-memory-template-'))
  const filling = await PGliteThread.open({ dataDir: template, loadDataDir: await migratedDump(), startParams: PGLITE_START_PARAMS })
  await filling.close()
  const rows: string[] = []
  for (const variant of VARIANTS) {
    const opened: number[] = []
    const worked: number[] = []
    for (let run = 0; run < RUNS; run++) {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'xr-rooms-memory-'))
      fs.cpSync(template, dataDir, { recursive: true })
      try {
        const out = execFileSync(process.execPath, [...(variant.v8Flags ?? []), '--import', 'tsx', import.meta.filename, '--child', dataDir, String(VARIANTS.indexOf(variant))], { encoding: 'utf8' })
        const result = JSON.parse(out) as ChildResult
        opened.push(result.openedMB)
        worked.push(result.workedMB)
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true })
      }
    }
    const row = `| ${variant.name} | ${cell(opened)} | ${cell(worked)} |`
    console.log(row)
    rows.push(row)
  }
  fs.rmSync(template, { recursive: true, force: true })
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  console.log(`\n${cpu}, ${os.cpus().length} cores, Node ${process.version}; RSS growth of a process opening the database thread, MB, after opening / after ${ENTITIES.toLocaleString('en')} rows, 2,000 updates and 20 full reads; ${RUNS} processes per variant\n`)
  console.log('| variant | opened | after the work |\n|---|---:|---:|\n' + rows.join('\n'))
}

if (process.argv[2] === '--child') await child(process.argv[3]!, VARIANTS[Number(process.argv[4])]!)
else await main()
