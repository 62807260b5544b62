import type { FastifyInstance } from 'fastify'
import { DirectoryStream } from '../directory-stream.ts'
import { roomListing } from './rooms.ts'

export interface EventRoutesOptions {
  heartbeatMs: number
}

/** `/rooms/events`: the live room list as Server-Sent Events. */
export default async function eventRoutes (fastify: FastifyInstance, { heartbeatMs }: EventRoutesOptions): Promise<void> {
  const stream = new DirectoryStream({ directory: fastify.roomDirectory, heartbeatMs, log: fastify.log })
  // Open streams would keep the server from closing: end them first.
  fastify.addHook('preClose', async () => { stream.close() })

  fastify.get('/rooms/events', async (_request, reply) => await stream.open(reply, async () => await roomListing(fastify)))
}
