import t from 'tap'
import { TokenBucket } from '../../src/channels/token-bucket.ts'

t.test('allows a burst, then the refill rate', async (t) => {
  let now = 0
  const bucket = new TokenBucket(10, 3, () => now)
  t.same([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false], 'a burst of 3')
  now += 100
  t.same([bucket.take(), bucket.take()], [true, false], 'one token per 100 ms at 10/s')
  now += 10_000
  t.same([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false], 'never more than the burst')
})

t.test('refuses nonsense settings', async (t) => {
  t.throws(() => new TokenBucket(0), TypeError)
  t.throws(() => new TokenBucket(5, 0), TypeError)
})
