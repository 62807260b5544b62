import fs from 'node:fs'
import path from 'node:path'
import { createHash } from 'node:crypto'

/**
 * Cache-busting URLs for files under public/: `/css/app.css?v=<content hash>`. A versioned
 * URL can be cached for a year; the hash is recomputed when the file changes (the bundle
 * is rebuilt while the server runs in development).
 */
export class AssetVersions {
  private readonly known = new Map<string, { mtimeMs: number, size: number, url: string }>()

  constructor (private readonly publicDir: string) {}

  /** The URL to use in pages; the plain path when the file is missing (not built yet). */
  url (urlPath: string): string {
    const file = path.join(this.publicDir, urlPath)
    let stat: fs.Stats
    try {
      stat = fs.statSync(file)
    } catch {
      return urlPath
    }
    const cached = this.known.get(urlPath)
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.url
    const hash = createHash('sha256').update(fs.readFileSync(file)).digest('base64url').slice(0, 10)
    const url = `${urlPath}?v=${hash}`
    this.known.set(urlPath, { mtimeMs: stat.mtimeMs, size: stat.size, url })
    return url
  }
}
