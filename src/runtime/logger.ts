/** The slice of a pino/Fastify logger the runtime writes to (`fastify.log` fits). */
export interface Logger {
  debug: (obj: object, msg?: string) => void
  info: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
  error: (obj: object, msg?: string) => void
}

const ignore = (): void => {}

export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore }
