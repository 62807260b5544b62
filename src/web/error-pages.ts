import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isDatabaseUnavailable } from '../db/unavailable.ts'
import { Errors, ValidationError } from '../errors.ts'

/** Fetch requests from our own scripts, and API clients: they get JSON, not pages. */
export function wantsJson (request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('application/json') ||
    request.headers['x-requested-with'] !== undefined
}

interface PublicError {
  status: number
  code: string
  message: string
  title: string
  fields?: Record<string, string>
}

const TITLES: Record<number, string> = {
  400: 'That request did not make sense',
  403: 'That form has expired',
  404: 'Nothing here',
  413: 'That was too much',
  415: 'That request did not make sense',
  422: 'That did not work',
  429: 'Slow down',
  503: 'Back in a moment'
}

// Where one status covers several situations.
const CODE_TITLES: Record<string, string> = {
  XR_ERR_ROOM_FORBIDDEN: 'Not your room',
  XR_ERR_MANAGE_LINK_INVALID: 'That link does not work'
}

const FRIENDLY_MESSAGES: Record<string, string> = {
  FST_CSRF_INVALID_TOKEN: 'This form has expired or came from another site. Go back, reload the page and try again.',
  FST_CSRF_MISSING_SECRET: 'This form has expired or came from another site. Go back, reload the page and try again.',
  XR_ERR_ROOM_NOT_FOUND: "This room doesn't exist. It may have been deleted, or the link may be mistyped.",
  XR_ERR_ROOM_FORBIDDEN: 'Only the owner of this room, or an admin, can change its settings, reset it or delete it.',
  XR_ERR_MANAGE_LINK_INVALID: 'This manage link is not (or no longer) the one for this room. Ask the owner for the current link.'
}

/** What the client may see of an error: 4xx messages are ours to show, 5xx are replaced. */
function publicError (err: FastifyError): PublicError {
  if (isDatabaseUnavailable(err)) {
    const unavailable = new Errors.DatabaseUnavailable()
    return {
      status: 503,
      code: unavailable.code,
      message: 'The database cannot be reached right now. Please try again in a minute.',
      title: TITLES[503]!
    }
  }
  const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
  if (status >= 500) {
    const internal = new Errors.Internal()
    return { status: 500, code: internal.code, message: internal.message, title: 'Something went wrong' }
  }
  return {
    status,
    code: err.code ?? 'XR_ERR_BAD_REQUEST',
    message: FRIENDLY_MESSAGES[err.code] ?? err.message,
    title: CODE_TITLES[err.code] ?? TITLES[status] ?? 'That did not work',
    ...(err instanceof ValidationError ? { fields: err.fields } : {})
  }
}

async function sendError (request: FastifyRequest, reply: FastifyReply, error: PublicError): Promise<FastifyReply> {
  reply.code(error.status)
  if (wantsJson(request)) {
    return reply.send({ error: error.code, message: error.message, ...(error.fields ? { fields: error.fields } : {}) })
  }
  try {
    return await reply.render('error', { title: error.title, error })
  } catch (renderError) {
    // The error page itself failed (a broken view): a bare page still says what happened.
    request.log.error({ err: renderError }, 'error page failed to render')
    return reply.type('text/plain; charset=utf-8').send(`${error.status} ${error.title}`)
  }
}

/** The error handler and the 404 page for the web scope: HTML for browsers, JSON for JSON clients. */
export function setErrorPages (fastify: FastifyInstance): void {
  fastify.setErrorHandler(async (err: FastifyError, request, reply) => {
    const error = publicError(err)
    if (error.status >= 500) request.log.error({ err }, 'request failed')
    else request.log.info({ err: { code: err.code, message: err.message } }, 'request rejected')
    return await sendError(request, reply, error)
  })

  fastify.setNotFoundHandler(async (request, reply) => {
    const notFound = new Errors.PageNotFound(request.url)
    return await sendError(request, reply, {
      status: 404,
      code: notFound.code,
      message: "We couldn't find that page. It may have moved, or the link may be wrong.",
      title: TITLES[404]!
    })
  })
}
