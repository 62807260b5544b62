import fs from 'node:fs'
import path from 'node:path'

function newestMtime (dir: string): number {
  let newest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full))
    else if (entry.isFile()) newest = Math.max(newest, fs.statSync(full).mtimeMs)
  }
  return newest
}

/** True when one of `outputs` is missing or older than a file under one of the `inputs` folders. */
export function isStale (outputs: string | string[], inputs: string[]): boolean {
  let built = Infinity
  try {
    for (const output of [outputs].flat()) built = Math.min(built, fs.statSync(output).mtimeMs)
  } catch {
    return true
  }
  return Math.max(...inputs.map(newestMtime)) > built
}

/** The server's bundles (see build.ts): dist/src/ keeps them as deep as the sources, so paths from import.meta.dirname still hold. */
export const serverBundles = (root: string): string[] => ['server', 'setup', 'pglite-worker'].map((name) => path.join(root, 'dist', 'src', `${name}.js`))

/** Whether `npm run build` has something to do: a bundle older than the sources it is made of. */
export function needsBuild (root: string): boolean {
  return isStale(path.join(root, 'public', 'build', 'room.js'), [path.join(root, 'src', 'client')]) ||
    isStale(serverBundles(root), [path.join(root, 'src'), path.join(root, 'prisma')])
}
