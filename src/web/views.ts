import path from 'node:path'
import fp from 'fastify-plugin'
import fastifyView from '@fastify/view'
import fastifyStatic from '@fastify/static'
import { Eta } from 'eta'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { AssetVersions } from './assets.ts'
import { takeFlash } from './session.ts'

export const PRODUCT_NAME = 'XR Rooms'
const ROOT = path.resolve(import.meta.dirname, '../..')
const VIEWS_DIR = path.join(ROOT, 'views')
const PUBLIC_DIR = path.join(ROOT, 'public')
const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60

/** What the layout needs from a page, besides the page's own data. */
export interface PageOptions {
  /** Shown before the product name in the window title. */
  title?: string
  /** `<meta name content>` tags for the page's scripts. */
  meta?: Array<{ name: string, content: string }>
  /** Module scripts (paths under public/). */
  scripts?: string[]
  /** Class of `<body>`: 'page-room' lays out the full-screen room page. */
  bodyClass?: string
  [key: string]: unknown
}

declare module 'fastify' {
  interface FastifyReply {
    /** Renders views/<view>.eta in the layout and sends it as HTML with the current status code. */
    render: (view: string, page?: PageOptions) => Promise<FastifyReply>
  }
}

/**
 * Eta views in one layout, and the files under public/. Views get every value ready-made;
 * templates only loop and branch (auto-escaping is on: `<%=` escapes, `<%~` is for
 * already-rendered HTML only).
 */
async function viewsPlugin (fastify: FastifyInstance): Promise<void> {
  const assets = new AssetVersions(PUBLIC_DIR)

  await fastify.register(fastifyView, {
    engine: { eta: new Eta({ autoEscape: true }) },
    root: VIEWS_DIR,
    layout: 'layout.eta'
  })

  await fastify.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/',
    index: false,
    cacheControl: false,
    // Versioned URLs never change content; anything else is revalidated with its ETag.
    setHeaders: (reply) => {
      const versioned = typeof (reply.request.query as Record<string, unknown>).v === 'string'
      reply.header('cache-control', versioned
        ? `public, max-age=${ONE_YEAR_SECONDS}, immutable`
        : 'public, max-age=0, must-revalidate')
    }
  })

  fastify.decorateReply('render', async function (this: FastifyReply, view: string, page: PageOptions = {}) {
    const { title, meta = [], scripts = [], bodyClass = '', ...data } = page
    const html = await this.viewAsync(`${view}.eta`, {
      ...data,
      productName: PRODUCT_NAME,
      documentTitle: title ? `${title} · ${PRODUCT_NAME}` : PRODUCT_NAME,
      meta,
      scripts: scripts.map((script) => assets.url(script)),
      stylesheet: assets.url('/css/app.css'),
      bodyClass,
      visitor: this.request.visitor,
      // An error page (a missing favicon, say) must not swallow the message meant for the page.
      flash: this.statusCode < 400 ? takeFlash(this.request) : null,
      csrfToken: this.generateCsrf()
    })
    return this.type('text/html; charset=utf-8').send(html)
  })
}

export default fp(viewsPlugin, {
  name: 'web-views',
  fastify: '5.x',
  dependencies: ['web-session', 'web-security']
})
