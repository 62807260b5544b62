import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type BuildResult, type Metafile, type Plugin } from 'esbuild'
import { isStale } from './freshness.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Where the browser client comes from and where its bundle goes. */
export interface ClientBuildPaths {
  /** Folder of the client's sources (src/client). */
  sourceDir: string
  /** The entry point (src/client/main.ts). */
  entry: string
  /** The bundle (public/build/room.js); the source map sits beside it. */
  outfile: string
}

export const DEFAULT_PATHS: ClientBuildPaths = Object.freeze({
  sourceDir: path.join(ROOT, 'src', 'client'),
  entry: path.join(ROOT, 'src', 'client', 'main.ts'),
  outfile: path.join(ROOT, 'public', 'build', 'room.js')
})

export interface ClientBuildResult {
  outfile: string
  /** Size of the bundle in bytes. */
  bytes: number
  warnings: BuildResult['warnings']
  metafile: Metafile
}

/**
 * Babylon loads its shaders with dynamic imports, WGSL ones only on the
 * WebGPU engine. The client only creates the WebGL engine, so those modules
 * are replaced by empty ones instead of being inlined (about 180 KiB).
 */
const dropWebGpuShaders: Plugin = {
  name: 'drop-webgpu-shaders',
  setup (b) {
    b.onResolve({ filter: /\/ShadersWGSL\// }, args => ({ path: args.path, namespace: 'empty-wgsl' }))
    b.onLoad({ filter: /.*/, namespace: 'empty-wgsl' }, () => ({ contents: 'export {}', loader: 'js' }))
  }
}

/** Bundles the room page client: ESM, minified, ES2022, with an external source map. */
export async function buildClient (paths: ClientBuildPaths = DEFAULT_PATHS): Promise<ClientBuildResult> {
  const result = await build({
    entryPoints: [paths.entry],
    outfile: paths.outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    metafile: true,
    legalComments: 'linked',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [dropWebGpuShaders]
  })
  return {
    outfile: paths.outfile,
    bytes: fs.statSync(paths.outfile).size,
    warnings: result.warnings,
    metafile: result.metafile
  }
}

/** True when the bundle is missing or older than any file under the client's source folder. */
export function isClientBundleStale (paths: ClientBuildPaths = DEFAULT_PATHS): boolean {
  return isStale(paths.outfile, [paths.sourceDir])
}

async function main (argv: string[]): Promise<void> {
  const force = argv.includes('--force')
  const rel = path.relative(process.cwd(), DEFAULT_PATHS.outfile)
  if (!force && !isClientBundleStale()) {
    console.log(`${rel} is up to date`)
    return
  }
  const result = await buildClient()
  for (const w of result.warnings) console.warn(`warning: ${w.text}`)
  console.log(`built ${rel} (${(result.bytes / 1024).toFixed(1)} KiB)`)
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err)
    process.exitCode = 1
  })
}
