/** Why the app is not ready; `database_error` hides the error itself, which goes to the log. */
export const NotReadyReasons = ['closing', 'database_timeout', 'database_error'] as const
export type NotReadyReason = typeof NotReadyReasons[number]

export type Readiness = { ready: true } | { ready: false, reason: NotReadyReason, error?: unknown }

export interface ReadinessOptions {
  checkDatabase: () => Promise<unknown>
  timeoutMs: number
  /** True once the app or the room runtime shuts down. */
  closing: () => boolean
}

const TIMEOUT = Symbol('timeout')

/**
 * Returns the readiness check. Probes arriving while a database check is under way share it,
 * so a hanging database does not collect one stuck query per probe.
 */
export function readinessCheck ({ checkDatabase, timeoutMs, closing }: ReadinessOptions): () => Promise<Readiness> {
  let inFlight: Promise<unknown> | null = null

  return async () => {
    if (closing()) return { ready: false, reason: 'closing' }
    inFlight ??= (async () => await checkDatabase())().finally(() => { inFlight = null })
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<typeof TIMEOUT>((resolve) => { timer = setTimeout(resolve, timeoutMs, TIMEOUT) })
    try {
      if (await Promise.race([inFlight, timedOut]) === TIMEOUT) return { ready: false, reason: 'database_timeout' }
    } catch (error) {
      return { ready: false, reason: 'database_error', error }
    } finally {
      clearTimeout(timer)
    }
    return { ready: true }
  }
}
