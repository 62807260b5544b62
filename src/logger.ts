import type { FastifyServerOptions } from 'fastify'
import type { Config } from './config.ts'

type LoggerOption = FastifyServerOptions['logger']

/** Query parameters that carry credentials: socket tokens travel in the URL (`_user_token`). */
const SECRET_PARAMS = /([?&](?:_user_token|token)=)[^&#]*/g

/** The URL as logs may keep it: credentials in the query string replaced. */
/** A room's manage link carries its secret in the path. */
const MANAGE_LINK = /(\/manage\/)[^/?#]+/g

export function redactUrl (url: string): string {
  return url.replace(SECRET_PARAMS, '$1[redacted]').replace(MANAGE_LINK, '$1[redacted]')
}

interface LoggedRequest {
  method: string
  url: string
  host?: string
  ip?: string
  socket?: { remotePort?: number }
}

// Fastify's own request serializer, with the URL redacted.
const serializers = {
  req: (request: LoggedRequest) => ({
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort
  })
}

/**
 * The app's logger options: pino, pretty in development and JSON otherwise, unless `given`
 * (tests) says otherwise; either way request URLs are logged without credentials.
 */
export function loggerOptions (config: Config, given?: LoggerOption): LoggerOption {
  const options: LoggerOption = given ?? (config.prettyLogs
    ? { level: config.logLevel, transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } }
    : { level: config.logLevel })
  if (typeof options !== 'object' || options === null) return options
  return { ...options, serializers: { ...serializers, ...(options as { serializers?: object }).serializers } }
}
