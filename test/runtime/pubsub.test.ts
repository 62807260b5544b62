import t from 'tap'
import { MemoryPubSub } from '../../src/runtime/pubsub.ts'
import { pubsubContract } from './fixtures/pubsub-contract.ts'
import { captureLogger, turn } from './fixtures/helpers.ts'

t.test('MemoryPubSub contract', async (t) => {
  pubsubContract(t, () => new MemoryPubSub(), turn)
})

t.test('MemoryPubSub logs a throwing subscriber with its topic', async (t) => {
  const { logger, lines } = captureLogger()
  const pubsub = new MemoryPubSub({ logger })
  pubsub.subscribe('room:x', () => { throw new Error('boom') })
  pubsub.subscribe('room:x', async () => { throw new Error('async boom') })
  await pubsub.broadcast('room:x', {})
  await turn()
  t.same(lines.map((l) => [l.level, l.obj.topic, (l.obj.err as Error).message]), [
    ['error', 'room:x', 'boom'],
    ['error', 'room:x', 'async boom']
  ])
})

t.test('broadcast resolves once local subscribers have the message', async (t) => {
  const pubsub = new MemoryPubSub()
  const seen: unknown[] = []
  pubsub.subscribe('t', (m) => { seen.push(m) })
  const delivered = pubsub.broadcast('t', 'x')
  t.same(seen, [], 'not synchronously: a Redis pubsub could not do that either')
  await delivered
  t.same(seen, ['x'])
})
