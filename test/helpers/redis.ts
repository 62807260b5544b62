import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'

interface Teardown { teardown: (fn: () => unknown) => void }

/**
 * A key prefix of the test's own in the Redis at `url`. Its keys are deleted in teardown;
 * registered first, that runs after the teardowns of whatever uses the prefix (tap runs them last
 * in, first out), so nothing a closing app still writes is left behind in the shared Redis.
 */
export function redisTestPrefix (t: Teardown, url = process.env.REDIS_URL): string {
  const prefix = `test:${randomBytes(6).toString('hex')}:`
  t.teardown(async () => {
    if (!url) return
    const redis = new Redis(url)
    try {
      let cursor = '0'
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
        if (keys.length > 0) await redis.del(...keys)
        cursor = next
      } while (cursor !== '0')
    } finally {
      await redis.quit()
    }
  })
  return prefix
}
