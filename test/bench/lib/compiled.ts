import path from 'node:path'
import { bundleForNode } from '../../../src/scripts/build.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
// Two levels below the repository, as dist/src/ is: the app finds views/ and public/ from there.
const OUT_DIR = path.join(ROOT, 'dist', 'bench')

/**
 * The bench's server child compiled to JavaScript, as `npm start` runs the server (npm run build
 * bundles it the same way), so that no target pays for compiling TypeScript at run time: the
 * child and the embedded database's worker thread, bundled to dist/bench/. Returns the child's path.
 */
export async function compiledServerChild (): Promise<string> {
  await bundleForNode({
    'server-child': path.join(ROOT, 'test', 'bench', 'servers', 'child.ts'),
    'pglite-worker': path.join(ROOT, 'src', 'db', 'pglite-worker.ts')
  }, OUT_DIR)
  return path.join(OUT_DIR, 'server-child.js')
}
