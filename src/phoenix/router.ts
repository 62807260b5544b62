import type { ChannelFactory, ChannelRoute } from './channel.ts'

/** Maps a topic to the factory of the first route whose pattern matches it, as Phoenix's `channel "room:*"` does. */
export class ChannelRouter {
  private readonly routes: ReadonlyArray<{ prefix: string, exact: boolean, factory: ChannelFactory }>

  /** Throws on a pattern Phoenix would not accept, so a typo stops boot instead of silently never matching. */
  constructor (routes: readonly ChannelRoute[]) {
    this.routes = routes.map(({ pattern, factory }) => {
      if (typeof pattern !== 'string' || pattern === '' || pattern === '*') {
        throw new Error(`channel pattern must be a topic or "prefix*", got ${JSON.stringify(pattern)}`)
      }
      if (pattern.indexOf('*') !== -1 && pattern.indexOf('*') !== pattern.length - 1) {
        throw new Error(`channel pattern "${pattern}" may only have "*" as its last character`)
      }
      if (typeof factory !== 'function') {
        throw new Error(`channel pattern "${pattern}" needs a factory function`)
      }
      const exact = !pattern.endsWith('*')
      return { prefix: exact ? pattern : pattern.slice(0, -1), exact, factory }
    })
  }

  match (topic: string): ChannelFactory | undefined {
    return this.routes.find(r => r.exact ? topic === r.prefix : topic.startsWith(r.prefix))?.factory
  }
}
