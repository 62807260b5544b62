import type { FastifyInstance } from 'fastify'
import { DirectoryStream } from '../directory-stream.ts'
import { parseListQuery, roomListing } from '../room-list.ts'

export interface EventRoutesOptions {
  heartbeatMs: number
}

/** `/rooms/events`: the live room list as Server-Sent Events; unlisted rooms never appear. */
export default async function eventRoutes (fastify: FastifyInstance, { heartbeatMs }: EventRoutesOptions): Promise<void> {
  const stream = new DirectoryStream({ directory: fastify.roomDirectory, heartbeatMs, log: fastify.log })
  // Open streams would keep the server from closing: end them first.
  fastify.addHook('preClose', async () => { stream.close() })

  // The snapshot is the page the list shows (same `page` and `q`), so a reconnect brings it back in line.
  fastify.get('/rooms/events', async (request, reply) => {
    const query = parseListQuery(request.query)
    return await stream.open(reply, async () => (await roomListing(fastify, query)).rooms)
  })
}
