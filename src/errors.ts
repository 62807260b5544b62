import createError from '@fastify/error'

/** Every error the server raises on purpose; tests assert on `code`, never on message text. */
export const Errors = {
  Validation: createError<[string]>('XR_ERR_VALIDATION', 'Invalid input: %s', 422),
  RoomNotFound: createError<[string]>('XR_ERR_ROOM_NOT_FOUND', 'Room %s not found', 404),
  DatabaseUnavailable: createError('XR_ERR_DATABASE_UNAVAILABLE', 'The database is unavailable', 503),
  EmbeddedDatabaseShared: createError('XR_ERR_EMBEDDED_DATABASE_SHARED',
    'REDIS_URL is set but DATABASE_URL is not: several processes cannot share the embedded database. Set DATABASE_URL to a PostgreSQL database.', 500),
  /** The embedded database's directory is open in another live process (src/db/data-dir-lock.ts). */
  DataDirLocked: createError<[string, number, string, string, string]>('XR_ERR_DATA_DIR_LOCKED',
    'The embedded database %s is in use by process %d (%s, since %s), which was left undisturbed. ' +
    'Only one process may open it at a time: stop that one first, or set DATA_DIR to another directory. ' +
    'If no such process exists any more, delete %s.', 500),
  /** A write by a process that no longer runs the room (its lease passed to another). */
  RoomLeaseLost: createError<[string]>('XR_ERR_ROOM_LEASE_LOST', 'Room %s is run by another process now', 409),
  RoomCrashLoop: createError<[string]>('XR_ERR_ROOM_CRASH_LOOP', 'Room %s crashed too often and was stopped', 500),
  RoomRuntimeClosed: createError('XR_ERR_ROOM_RUNTIME_CLOSED', 'The room runtime is shutting down', 503),
  /** A visitor who is neither the room's owner nor an admin tried to manage it. */
  RoomForbidden: createError<[string]>('XR_ERR_ROOM_FORBIDDEN', 'Only the owner of room %s may do that', 403),
  /** A manage link whose token is not the room's. */
  ManageLinkInvalid: createError('XR_ERR_MANAGE_LINK_INVALID', 'This manage link is not valid', 403),
  /** Too many requests from one address; Retry-After says when to try again. */
  RateLimited: createError<[string]>('XR_ERR_RATE_LIMITED', 'Too many requests: try again in %s', 429),
  PageNotFound: createError<[string]>('XR_ERR_PAGE_NOT_FOUND', 'No page at %s', 404),
  /** What a client sees of an unexpected error; the real one is only logged. */
  Internal: createError('XR_ERR_INTERNAL', 'Something went wrong on our side', 500)
} as const

/** A validation error that carries per-field messages, so forms can show each next to its field. */
export class ValidationError extends Errors.Validation {
  readonly fields: Record<string, string>
  constructor (fields: Record<string, string>) {
    super(Object.entries(fields).map(([field, message]) => `${field} ${message}`).join(', '))
    this.fields = fields
  }
}
