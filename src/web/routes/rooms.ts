import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Errors, ValidationError } from '../../errors.ts'
import type { Room } from '../../db/rooms.ts'
import type { RoomInput } from '../../db/types.ts'
import { signUserToken } from '../../phoenix/token.ts'
import { formValidatorCompiler, RoomForm } from '../forms.ts'
import type { RoomLifecycle } from '../lifecycle.ts'
import { manageLinkPath, manageTokenMatches, newManageToken } from '../manage-link.ts'
import { assertCanManage, canManage, roomRole, viewerOf } from '../room-access.ts'
import { PAGE_SIZE, parseListQuery, roomListing, roomSummary } from '../room-list.ts'
import { setFlash, takeNewManageLink } from '../session.ts'

export interface RoomRoutesOptions {
  lifecycle: RoomLifecycle
}

/** What the room form shows: the room's values, or what the visitor typed. */
interface RoomFormValues {
  name: string
  description: string
  persistent: boolean
  capacity: string
  visibility: string
  locked: boolean
  allowGrab: boolean
  allowChat: boolean
}

type IdRequest = FastifyRequest<{ Params: { id: string } }>

const NEW_ROOM: RoomFormValues = {
  name: '', description: '', persistent: true, capacity: '24', visibility: 'public', locked: false, allowGrab: true, allowChat: true
}

function storedValues (room: Room): RoomFormValues {
  return {
    name: room.name,
    description: room.description,
    persistent: room.persistent,
    capacity: String(room.capacity),
    visibility: room.visibility,
    locked: room.locked,
    allowGrab: room.allowGrab,
    allowChat: room.allowChat
  }
}

// After a failed validation the body can be anything; only strings make it back into the form.
// An unchecked checkbox sends nothing, so a missing box is off.
function submittedValues (body: unknown): RoomFormValues {
  const fields = typeof body === 'object' && body !== null ? body as Record<string, unknown> : {}
  const text = (value: unknown): string => typeof value === 'string' ? value : ''
  const checked = (value: unknown): boolean => value === 'true'
  return {
    name: text(fields.name),
    description: text(fields.description),
    persistent: checked(fields.persistent),
    capacity: text(fields.capacity) || NEW_ROOM.capacity,
    visibility: text(fields.visibility) || NEW_ROOM.visibility,
    locked: checked(fields.locked),
    allowGrab: checked(fields.allow_grab),
    allowChat: checked(fields.allow_chat)
  }
}

const roomInput = (values: RoomFormValues): RoomInput => ({ ...values })

// A form's field errors are keyed like its inputs.
const FIELD_NAMES: Record<string, string> = { allowGrab: 'allow_grab', allowChat: 'allow_chat' }
const formErrors = (fields: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(fields).map(([field, message]) => [FIELD_NAMES[field] ?? field, message]))

/**
 * Room list, room forms, the room page and its manage link. Every POST needs the CSRF token;
 * only the room's owner and admins may edit, reset or delete it (XR_ERR_ROOM_FORBIDDEN, 403).
 */
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

  async function managedRoom (request: IdRequest): Promise<Room> {
    const room = await rooms.getRoomOrThrow(request.params.id)
    assertCanManage(viewerOf(request), room)
    return room
  }

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
    request: FastifyRequest, reply: FastifyReply, room: Room | null, save: (input: RoomInput) => Promise<Room>
  ): Promise<Room | null> {
    const values = submittedValues(request.body)
    try {
      if (request.validationError) throw request.validationError
      return await save(roomInput(values))
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err
      await renderForm(reply.code(422), room, values, formErrors(err.fields))
      return null
    }
  }

  // A new link replaces the old one, which stops working; it waits in the session to be shown once.
  async function issueManageLink (request: FastifyRequest, room: Room): Promise<void> {
    const { token, hash } = newManageToken()
    await rooms.setManageTokenHash(room.id, hash)
    request.session.set('newManageLink', { roomId: room.id, path: manageLinkPath(room.id, token) })
  }

  fastify.get('/', async (_request, reply) => reply.redirect('/rooms'))

  fastify.get('/rooms', async (request, reply) => {
    const listing = await roomListing(fastify, parseListQuery(request.query))
    const viewer = viewerOf(request)
    const pageHref = (page: number): string => `/rooms?${new URLSearchParams({ ...(listing.q ? { q: listing.q } : {}), page: String(page) })}`
    return await reply.render('rooms/index', {
      title: 'Rooms',
      listing,
      pageSize: PAGE_SIZE,
      cards: listing.rooms.map((room) => ({ room, canEdit: canManage(viewer, { id: room.id, ownerId: listing.owners.get(room.id) ?? null }) })),
      previousHref: listing.page > 1 ? pageHref(listing.page - 1) : null,
      nextHref: listing.page < listing.pages ? pageHref(listing.page + 1) : null,
      // The live list adds rooms created while the page is open by cloning this blank card.
      blankRoom: { id: '', name: '', description: '', persistent: true, occupancy: 0 },
      scripts: ['/js/rooms.js']
    })
  })

  fastify.get('/rooms/new', async (_request, reply) => await renderForm(reply, null, NEW_ROOM))

  fastify.post('/rooms', { ...form, onRequest: fastify.rateLimits.roomCreate }, async (request, reply) => {
    const room = await submitForm(request, reply, null, async (input) => await rooms.createRoom(input, undefined, request.visitor.id))
    if (!room) return reply
    await issueManageLink(request, room)
    await roomDirectory.announce({ type: 'room_created', room: roomSummary(room) })
    setFlash(request, 'notice', `Room “${room.name}” created.`)
    return reply.redirect(`/rooms/${room.id}`, 303)
  })

  fastify.get('/rooms/:id', async (request: IdRequest, reply) => {
    const room = await rooms.getRoomOrThrow(request.params.id)
    await lifecycle.startRoom(room.id)
    const { visitor } = request
    const viewer = viewerOf(request)
    const role = roomRole(viewer, room)
    const manageLink = takeNewManageLink(request, room.id)
    return await reply.render('rooms/show', {
      title: room.name,
      room,
      role,
      canManage: canManage(viewer, room),
      manageLink: manageLink && `${request.protocol}://${request.host}${manageLink}`,
      bodyClass: 'page-room',
      meta: [
        { name: 'user-token', content: signUserToken(fastify.config.secretKeyBase, visitor.id, { username: visitor.name, admin: viewer.admin }) },
        { name: 'room-id', content: room.id },
        { name: 'user-id', content: visitor.id },
        { name: 'username', content: visitor.name },
        // owner | admin | member: which controls the room page may offer (the channel decides again).
        { name: 'room-role', content: role }
      ],
      scripts: ['/build/room.js']
    })
  })

  fastify.get('/rooms/:id/edit', async (request: IdRequest, reply) => {
    const room = await managedRoom(request)
    return await renderForm(reply, room, storedValues(room))
  })

  fastify.post('/rooms/:id', form, async (request: IdRequest, reply) => {
    const existing = await managedRoom(request)
    const room = await submitForm(request, reply, existing, async (input) => await rooms.updateRoom(existing.id, input))
    if (!room) return reply
    // The realtime side applies the new settings to the people in the room, in every process.
    await roomDirectory.announce({ type: 'room_updated', room: roomSummary(room) })
    setFlash(request, 'notice', 'Room saved.')
    return reply.redirect(`/rooms/${room.id}`, 303)
  })

  fastify.post('/rooms/:id/delete', csrfOnly, async (request: IdRequest, reply) => {
    const room = await managedRoom(request)
    // Stop first: nobody may keep writing into a room that is being deleted.
    await lifecycle.stopRoom(room.id)
    await rooms.deleteRoom(room.id)
    await roomDirectory.announce({ type: 'room_deleted', room_id: room.id })
    setFlash(request, 'notice', `Room “${room.name}” deleted.`)
    return reply.redirect('/rooms', 303)
  })

  fastify.post('/rooms/:id/reset', csrfOnly, async (request: IdRequest, reply) => {
    const room = await managedRoom(request)
    await lifecycle.resetRoom(room.id)
    setFlash(request, 'notice', 'The room is back to how it started.')
    return reply.redirect(`/rooms/${room.id}`, 303)
  })

  // A room without an owner (seeded) has no manage link: it is the admins'.
  fastify.post('/rooms/:id/manage-link', csrfOnly, async (request: IdRequest, reply) => {
    const room = await managedRoom(request)
    if (room.ownerId === null) throw new Errors.RoomForbidden(room.id)
    await issueManageLink(request, room)
    setFlash(request, 'notice', 'A new manage link replaces the old one, which no longer works.')
    return reply.redirect(`/rooms/${room.id}`, 303)
  })

  /**
   * The manage link makes this browser the room's owner: the session takes the owner's visitor
   * id, which the socket token carries too, so the channel sees the owner (as a Hubs creator
   * token does). The session keeps its name; its earlier visitor id, and what it owned, are left.
   */
  fastify.get('/rooms/:id/manage/:token', async (request: FastifyRequest<{ Params: { id: string, token: string } }>, reply) => {
    const room = await rooms.getRoomOrThrow(request.params.id)
    if (room.ownerId === null || !manageTokenMatches(room.manageTokenHash, request.params.token)) throw new Errors.ManageLinkInvalid()
    request.session.set('userId', room.ownerId)
    setFlash(request, 'notice', `This browser now manages “${room.name}”.`)
    return reply.redirect(`/rooms/${room.id}`, 303)
  })
}
