// Prisma's codes for "cannot reach / lost / overloaded database" (P1xxx connection errors,
// P2024 connection-pool timeout), and the driver adapters' names for the same.
const DATABASE_DOWN_CODES = new Set(['P1000', 'P1001', 'P1002', 'P1003', 'P1008', 'P1010', 'P1011', 'P1017', 'P2024'])
const DATABASE_DOWN_KINDS = new Set(['DatabaseNotReachable', 'DatabaseDoesNotExist', 'DatabaseAccessDenied',
  'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TlsConnectionError'])

// A connection the pool handed out that dies mid-query, or one the pool cannot open within its
// connect timeout, reaches Prisma's raw queries as pg's own error, with no code: only its
// message says what happened.
const PG_CONNECTION_LOST = new Set(['Connection terminated unexpectedly', 'Connection terminated', 'Connection terminated due to connection timeout'])

/** Whether an error means the database cannot be reached (as opposed to a bad query or bad data). */
export function isDatabaseUnavailable (err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const { code, errorCode, meta } = err as { code?: unknown, errorCode?: unknown, meta?: { driverAdapterError?: { cause?: { kind?: unknown } } } }
  if (code === 'XR_ERR_DATABASE_UNAVAILABLE') return true
  if (code === undefined && err instanceof Error && PG_CONNECTION_LOST.has(err.message)) return true
  if (typeof code === 'string' && DATABASE_DOWN_CODES.has(code)) return true
  if (typeof errorCode === 'string' && DATABASE_DOWN_CODES.has(errorCode)) return true
  const kind = meta?.driverAdapterError?.cause?.kind
  return typeof kind === 'string' && DATABASE_DOWN_KINDS.has(kind)
}
