import type { FastifyInstance, FastifyRequest } from 'fastify'
import { signUserToken } from '../../phoenix/token.ts'
import { viewerOf } from '../room-access.ts'
import { wantsJson } from '../error-pages.ts'
import { formValidatorCompiler, NameForm } from '../forms.ts'
import { normalizeUsername, setFlash } from '../session.ts'

// Back to the page the form was on, but only to a path on this host: the Referer is
// client-supplied and must not turn this into an open redirect.
function backTo (request: FastifyRequest): string {
  const referer = request.headers.referer
  if (referer === undefined) return '/rooms'
  try {
    const url = new URL(referer)
    // Parsed the same way as the Referer, so a default port (:80, :443) compares equal.
    const ownHost = new URL(`${request.protocol}://${request.host}`).host
    if (url.host !== ownHost || !/^\/(?![/\\])/.test(url.pathname)) return '/rooms'
    return url.pathname + url.search
  } catch {
    return '/rooms'
  }
}

/**
 * The visitor's display name. The socket token carries the name, so a JSON client gets a
 * fresh token to reconnect with (`{username, user_token}`); other fetches get 204, forms
 * a redirect back.
 */
export default async function sessionRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.post<{ Body: NameForm }>('/session/name', {
    preValidation: fastify.csrfProtection,
    validatorCompiler: formValidatorCompiler,
    schema: { body: NameForm }
  }, async (request, reply) => {
    // A blank or too long name throws a ValidationError: 422 with the message.
    const username = normalizeUsername(request.body.username)
    request.session.set('username', username)
    if ((request.headers.accept ?? '').includes('application/json')) {
      return { username, user_token: signUserToken(fastify.config.secretKeyBase, request.visitor.id, { username, admin: viewerOf(request).admin }) }
    }
    if (wantsJson(request)) return reply.code(204).send()
    setFlash(request, 'notice', `You now appear as “${username}”.`)
    return reply.redirect(backTo(request), 303)
  })
}
