import type { IncomingMessage } from 'node:http'
import fp from 'fastify-plugin'
import fastifyHelmet from '@fastify/helmet'
import fastifyCsrf from '@fastify/csrf-protection'
import type { FastifyInstance } from 'fastify'

// A Host header is attacker-controlled and goes into the CSP header: only hostnames,
// IPv4/IPv6 literals and a port may pass, never a `;` that would start another directive.
const HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i

/**
 * Older browsers (Safari before 15.4) do not let 'self' match ws:/wss:, so the room
 * socket's own origin is named explicitly.
 */
function sameHostWebSockets (req: IncomingMessage): string {
  const host = req.headers.host
  return host !== undefined && HOST.test(host) ? `ws://${host} wss://${host}` : ''
}

/**
 * Security headers and CSRF protection for the pages. The CSP allows nothing inline:
 * scripts and styles come from this origin; Babylon may make blob: workers and
 * data:/blob: textures.
 */
async function securityPlugin (fastify: FastifyInstance): Promise<void> {
  await fastify.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        connectSrc: ["'self'", sameHostWebSockets],
        fontSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'"],
        workerSrc: ["'self'", 'blob:']
      }
    },
    // The name form goes back to the page it was sent from, so same-origin requests keep the Referer.
    referrerPolicy: { policy: 'same-origin' },
    // Same as the CSP's frame-ancestors, for browsers that only know the older header.
    frameguard: { action: 'deny' }
  })
  await fastify.register(fastifyCsrf, { sessionPlugin: '@fastify/secure-session' })
}

export default fp(securityPlugin, {
  name: 'web-security',
  fastify: '5.x',
  dependencies: ['web-session']
})
