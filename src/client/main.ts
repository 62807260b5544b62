import { EntityStore } from './entity-store.ts'
import { RoomConnection } from './connection.ts'
import { readPage } from './page.ts'
import type { RoomScene } from './scene/room-scene.ts'
import { appendMessages, bindChatForm, bindMessageDelete, removeMessage, setCanDelete } from './ui/chat.ts'
import { isStaff } from '../shared/roles.ts'
import { bindPeopleActions } from './ui/moderation.ts'
import { showNotice } from './ui/notice.ts'
import { bindNameForm } from './ui/name-form.ts'
import { renderPeople } from './ui/people.ts'
import type { Person } from './presence.ts'
import { renderStatus } from './ui/status.ts'
import { createRoomScene } from './scene/create.ts'
import { setupVoice, type RoomVoice } from './voice/setup.ts'

/** What browser tests may read from `window.xr`. */
export interface XRTestHandle {
  /** The Babylon scene (null without WebGL). */
  scene: RoomScene['scene'] | null
  /** The desktop camera (null without WebGL). */
  camera: RoomScene['camera'] | null
  /** A deep copy of the client's current entity state. */
  entities: () => Record<string, Record<string, unknown>>
  /** True while the socket is open and the room channel is joined. */
  socketConnected: () => boolean
}

declare global {
  interface Window {
    xr: XRTestHandle
  }
}

function start (): void {
  const page = readPage(document)
  const store = new EntityStore()
  let selfId = page.userId
  let people: Person[] = []
  let room: RoomScene | null = null
  let voice: RoomVoice | null = null

  const connection = new RoomConnection({
    userToken: page.userToken,
    roomId: page.roomId,
    handlers: {
      status: (status, detail) => renderStatus(page.connectionStatus, status, detail),
      joined: reply => {
        // A refusal shown before (a full room, say) is over once the client's retry got in.
        if (page.notice) page.notice.hidden = true
        if (selfId === null && typeof reply.user_id === 'string' && reply.user_id !== '') {
          selfId = reply.user_id
          renderPeople(page.people, people, selfId)
        }
        room?.rejoined()
        voice?.rejoined()
      },
      entitiesState: payload => {
        const changes = store.replace(payload)
        if (room) {
          room.applyChanges(changes)
          room.stateReplaced()
        }
        voice?.moved(changes.map(change => change.id))
      },
      entitiesDiff: payload => {
        const changes = store.applyDiff(payload)
        room?.applyChanges(changes)
        voice?.moved(changes.map(change => change.id))
      },
      people: list => {
        people = list
        renderPeople(page.people, people, selfId)
        voice?.people(people)
        setCanDelete(page.messages, isStaff(people.find(p => p.id === selfId)?.role ?? 'member'))
      },
      messages: messages => appendMessages(page.messages, messages),
      messageDeleted: id => removeMessage(page.messages, id),
      notice: (reason, details) => showNotice(page.notice, reason, details)
    }
  })

  if (page.canvas) {
    room = createRoomScene({
      canvas: page.canvas,
      store,
      selfId: () => selfId,
      sendMove: payload => connection.sendMove(payload),
      sendEvent: (name, payload) => connection.sendEvent(name, payload),
      enterVrButton: page.enterVr
    }, page.webglError)
  } else if (page.webglError) {
    page.webglError.hidden = false
  }

  voice = setupVoice({ page, channel: connection.channel, store, room, selfId: () => selfId })
  bindChatForm(page.chatForm, content => connection.sendMessage(content))
  bindPeopleActions(page.people, (action, userId) => connection.moderate(action, userId))
  bindMessageDelete(page.messages, id => connection.deleteMessage(id))
  bindNameForm(page.nameForm, page.csrfToken, result => {
    document.querySelector('meta[name="username"]')?.setAttribute('content', result.username)
    if (result.userToken) document.querySelector('meta[name="user-token"]')?.setAttribute('content', result.userToken)
    connection.reconnect(result.userToken)
  })

  window.xr = {
    scene: room?.scene ?? null,
    camera: room?.camera ?? null,
    entities: () => store.snapshot(),
    socketConnected: () => connection.joined
  }

  connection.connect()
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true })
else start()
