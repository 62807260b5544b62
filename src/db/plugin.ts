import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Database } from './database.ts'
import { Rooms } from './rooms.ts'
import { Chat } from './chat.ts'
import { RoomBans } from './room-bans.ts'
import { RoomMembers } from './room-members.ts'

declare module 'fastify' {
  interface FastifyInstance {
    db: Database
    rooms: Rooms
    chat: Chat
    roomMembers: RoomMembers
    roomBans: RoomBans
  }
}

export interface DatabasePluginOptions {
  database: Database
  /** Close the database when the app closes (true when the app opened it). */
  closeOnShutdown?: boolean
}

async function databasePlugin (fastify: FastifyInstance, opts: DatabasePluginOptions): Promise<void> {
  if (!opts.database?.prisma) throw new Error('database plugin: the "database" option is required')
  fastify.decorate('db', opts.database)
  fastify.decorate('rooms', new Rooms(opts.database.prisma))
  fastify.decorate('chat', new Chat(opts.database.prisma))
  fastify.decorate('roomMembers', new RoomMembers(opts.database.prisma))
  fastify.decorate('roomBans', new RoomBans(opts.database.prisma))
  if (opts.closeOnShutdown) fastify.addHook('onClose', async () => { await opts.database.close() })
}

export default fp(databasePlugin, { name: 'database', fastify: '5.x' })
