import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ValidationError } from '../../errors.ts'
import type { Room } from '../../db/rooms.ts'
import { signUserToken } from '../../phoenix/token.ts'
import { formValidatorCompiler, RoomForm } from '../forms.ts'
import type { RoomOccupancy } from '../directory-stream.ts'
import type { RoomLifecycle } from '../lifecycle.ts'
import type { RoomSummary } from '../room-directory.ts'
import { setFlash } from '../session.ts'

export interface RoomRoutesOptions {
  lifecycle: RoomLifecycle
}

/** What the room form shows: the room's values, or what the visitor typed. */
interface RoomFormValues {
  name: string
  description: string
  persistent: boolean
}

type IdRequest = FastifyRequest<{ Params: { id: string } }>

export function roomSummary ({ id, name, description, persistent }: Room): RoomSummary {
  return { id, name, description, persistent }
}

/** Every room, oldest first, with the number of people in it now. */
export async function roomListing ({ rooms, roomDirectory }: FastifyInstance): Promise<RoomOccupancy[]> {
  return (await rooms.listRooms()).map((room) => ({ ...roomSummary(room), occupancy: roomDirectory.occupancy(room.id) }))
}

// After a failed validation the body can be anything; only strings make it back into the form.
function submittedValues (body: unknown): RoomFormValues {
  const fields = typeof body === 'object' && body !== null ? body as Record<string, unknown> : {}
  const text = (value: unknown): string => typeof value === 'string' ? value : ''
  return { name: text(fields.name), description: text(fields.description), persistent: fields.persistent === 'true' }
}

/** Room list, room forms and the room page. Every POST needs the CSRF token. */
export default async function roomRoutes (fastify: FastifyInstance, { lifecycle }: RoomRoutesOptions): Promise<void> {
  const { rooms, roomDirectory } = fastify
  const form = {
    preValidation: fastify.csrfProtection,
    validatorCompiler: formValidatorCompiler,
    // Invalid input re-renders the form instead of failing the request.
    attachValidation: true,
    schema: { body: RoomForm }
  }
  const csrfOnly = { preValidation: fastify.csrfProtection }

  async function renderForm (reply: FastifyReply, room: Room | null, values: RoomFormValues, errors: Record<string, string> = {}): Promise<FastifyReply> {
    return await reply.render(room ? 'rooms/edit' : 'rooms/new', {
      title: room ? `Edit ${room.name}` : 'New room',
      room,
      values,
      errors,
      action: room ? `/rooms/${room.id}` : '/rooms',
      cancelHref: room ? `/rooms/${room.id}` : '/rooms',
      submitLabel: room ? 'Save changes' : 'Create room'
    })
  }

  // Validates, then saves with `save`; bad input (schema or rooms module) re-renders the form.
  async function submitForm (
    request: FastifyRequest, reply: FastifyReply, room: Room | null, save: (values: RoomFormValues) => Promise<Room>
  ): Promise<Room | null> {
    const values = submittedValues(request.body)
    try {
      if (request.validationError) throw request.validationError
      return await save(values)
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err
      await renderForm(reply.code(422), room, values, err.fields)
      return null
    }
  }

  fastify.get('/', async (_request, reply) => reply.redirect('/rooms'))

  fastify.get('/rooms', async (_request, reply) => {
    return await reply.render('rooms/index', {
      title: 'Rooms',
      rooms: await roomListing(fastify),
      // The live list's script clones this blank card for rooms created while the page is open.
      blankRoom: { id: '', name: '', description: '', persistent: true, occupancy: 0 },
      scripts: ['/js/rooms.js']
    })
  })

  fastify.get('/rooms/new', async (_request, reply) =>
    await renderForm(reply, null, { name: '', description: '', persistent: true }))

  fastify.post('/rooms', form, async (request, reply) => {
    const room = await submitForm(request, reply, null, async (values) => await rooms.createRoom(values))
    if (!room) return reply
    await roomDirectory.announce({ type: 'room_created', room: roomSummary(room) })
    setFlash(request, 'notice', `Room “${room.name}” created.`)
    return reply.redirect(`/rooms/${room.id}`, 303)
  })

  fastify.get('/rooms/:id', async (request: IdRequest, reply) => {
    const room = await rooms.getRoomOrThrow(request.params.id)
    await lifecycle.startRoom(room.id)
    const { visitor } = request
    return await reply.render('rooms/show', {
      title: room.name,
      room,
      bodyClass: 'page-room',
      meta: [
        { name: 'user-token', content: signUserToken(fastify.config.secretKeyBase, visitor.id, { username: visitor.name }) },
        { name: 'room-id', content: room.id },
        { name: 'user-id', content: visitor.id },
        { name: 'username', content: visitor.name }
      ],
      scripts: ['/build/room.js']
    })
  })

  fastify.get('/rooms/:id/edit', async (request: IdRequest, reply) => {
    const room = await rooms.getRoomOrThrow(request.params.id)
    return await renderForm(reply, room, roomSummary(room))
  })

  fastify.post('/rooms/:id', form, async (request: IdRequest, reply) => {
    const existing = await rooms.getRoomOrThrow(request.params.id)
    const room = await submitForm(request, reply, existing, async (values) => await rooms.updateRoom(existing.id, values))
    if (!room) return reply
    await roomDirectory.announce({ type: 'room_updated', room: roomSummary(room) })
    setFlash(request, 'notice', 'Room saved.')
    return reply.redirect(`/rooms/${room.id}`, 303)
  })

  fastify.post('/rooms/:id/delete', csrfOnly, async (request: IdRequest, reply) => {
    const room = await rooms.getRoomOrThrow(request.params.id)
    // Stop first: nobody may keep writing into a room that is being deleted.
    await lifecycle.stopRoom(room.id)
    await rooms.deleteRoom(room.id)
    await roomDirectory.announce({ type: 'room_deleted', room_id: room.id })
    setFlash(request, 'notice', `Room “${room.name}” deleted.`)
    return reply.redirect('/rooms', 303)
  })

  fastify.post('/rooms/:id/reset', csrfOnly, async (request: IdRequest, reply) => {
    const room = await rooms.getRoomOrThrow(request.params.id)
    await lifecycle.resetRoom(room.id)
    setFlash(request, 'notice', 'The room is back to how it started.')
    return reply.redirect(`/rooms/${room.id}`, 303)
  })
}
