/**
 * The room page's contract with the server-rendered HTML: meta tags and
 * element ids. Everything is optional here so a missing piece degrades that
 * feature instead of breaking the page.
 */
export interface PageContext {
  userToken: string
  roomId: string
  username: string
  /** This client's user id (`<meta name="user-id">`), or the join reply's `user_id`. */
  userId: string | null
  csrfToken: string | null
  canvas: HTMLCanvasElement | null
  people: HTMLUListElement | null
  messages: HTMLOListElement | null
  chatForm: HTMLFormElement | null
  connectionStatus: HTMLElement | null
  /** The alert line: kicked, refused joins, forbidden actions. */
  notice: HTMLElement | null
  nameForm: HTMLFormElement | null
  webglError: HTMLElement | null
  enterVr: HTMLButtonElement | null
  voiceJoin: HTMLButtonElement | null
  voiceMute: HTMLButtonElement | null
  voiceMessage: HTMLElement | null
}

export function readMeta (doc: Document, name: string): string | null {
  const el = doc.querySelector(`meta[name="${name}"]`)
  const value = el?.getAttribute('content')
  return value === null || value === undefined ? null : value
}

function byId<T extends HTMLElement> (doc: Document, id: string, type: { new (): T }): T | null {
  const el = doc.getElementById(id)
  return el instanceof type ? el : null
}

export function readPage (doc: Document): PageContext {
  const chat = doc.getElementById('chat')
  const userId = readMeta(doc, 'user-id')
  return {
    userToken: readMeta(doc, 'user-token') ?? '',
    roomId: readMeta(doc, 'room-id') ?? '',
    username: readMeta(doc, 'username') ?? '',
    userId: userId === '' ? null : userId,
    csrfToken: readMeta(doc, 'csrf-token'),
    canvas: byId(doc, 'room-canvas', HTMLCanvasElement),
    people: byId(doc, 'people', HTMLUListElement),
    messages: byId(doc, 'messages', HTMLOListElement),
    chatForm: (chat?.querySelector('form#chat-form') ?? doc.getElementById('chat-form')) as HTMLFormElement | null,
    connectionStatus: doc.getElementById('connection-status'),
    notice: doc.getElementById('room-notice'),
    nameForm: byId(doc, 'name-form', HTMLFormElement),
    webglError: doc.getElementById('webgl-error'),
    enterVr: byId(doc, 'enter-vr', HTMLButtonElement),
    voiceJoin: byId(doc, 'voice-join', HTMLButtonElement),
    voiceMute: byId(doc, 'voice-mute', HTMLButtonElement),
    voiceMessage: doc.getElementById('voice-message')
  }
}
