import t from 'tap'
import { isDatabaseUnavailable } from '../../src/db/unavailable.ts'

t.test('a pooled PostgreSQL connection dying mid-query means the database is unavailable', async (t) => {
  t.ok(isDatabaseUnavailable(new Error('Connection terminated unexpectedly')), 'pg-pool\'s error for a connection cut mid-query')
  t.ok(isDatabaseUnavailable(new Error('Connection terminated')))
  t.ok(isDatabaseUnavailable(new Error('Connection terminated due to connection timeout')), 'pg\'s error when no connection opens within the connect timeout')
  t.ok(isDatabaseUnavailable({ code: 'P1001' }), 'Prisma\'s "cannot reach"')
  t.notOk(isDatabaseUnavailable(new Error('Connection terminated unexpectedly, said the test')), 'only that exact message')
  t.notOk(isDatabaseUnavailable(Object.assign(new Error('Connection terminated'), { code: '23505' })), 'an error with a code of its own is judged by the code')
  t.notOk(isDatabaseUnavailable(new Error('syntax error at or near "SELEC"')))
})
