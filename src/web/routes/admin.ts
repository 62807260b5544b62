import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { Errors, ValidationError } from '../../errors.ts'
import { formValidatorCompiler } from '../forms.ts'
import { setFlash } from '../session.ts'

const AdminForm = Type.Object({ token: Type.String({ maxLength: 1024 }) })

// Hashing both sides first gives equal lengths, so the comparison says nothing about the length either.
const digest = (text: string): Buffer => createHash('sha256').update(text).digest()
const tokenMatches = (expected: string, given: string): boolean => timingSafeEqual(digest(expected), digest(given))

/**
 * `/admin`: a visitor who gives ADMIN_TOKEN is an admin for the rest of the session and manages
 * every room; sign-in attempts are rate-limited per address. Without ADMIN_TOKEN nobody can sign in.
 */
export default async function adminRoutes (fastify: FastifyInstance): Promise<void> {
  const adminToken = fastify.config.adminToken

  fastify.get('/admin', async (request, reply) => await reply.render('admin', {
    title: 'Admin',
    enabled: adminToken !== undefined,
    admin: request.session.get('admin') === true,
    errors: {}
  }))

  fastify.post<{ Body: { token: string } }>('/admin', {
    onRequest: fastify.rateLimits.adminSignIn,
    preValidation: fastify.csrfProtection,
    validatorCompiler: formValidatorCompiler,
    schema: { body: AdminForm }
  }, async (request, reply) => {
    if (adminToken === undefined) throw new Errors.PageNotFound(request.url)
    if (!tokenMatches(adminToken, request.body.token)) {
      const error = new ValidationError({ token: 'is not the admin token' })
      return await reply.code(422).render('admin', { title: 'Admin', enabled: true, admin: false, errors: error.fields })
    }
    request.session.set('admin', true)
    request.log.info({ visitor: request.visitor.id }, 'admin signed in')
    setFlash(request, 'notice', 'You are signed in as an admin: you can manage every room.')
    return reply.redirect('/rooms', 303)
  })

  fastify.post('/admin/sign-out', { preValidation: fastify.csrfProtection }, async (request, reply) => {
    request.session.set('admin', undefined)
    setFlash(request, 'notice', 'You are signed out of admin.')
    return reply.redirect('/rooms', 303)
  })
}
