import type { ChatMessage } from '../protocol.ts'

/** Longest message the form accepts (matches the input's maxlength). */
export const MAX_MESSAGE_LENGTH = 500

function timeText (iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
}

function messageItem (doc: Document, message: ChatMessage): HTMLLIElement {
  const li = doc.createElement('li')
  li.dataset.id = String(message.id)
  li.dataset.userId = message.user_id
  const time = doc.createElement('time')
  time.dateTime = message.inserted_at
  time.textContent = timeText(message.inserted_at)
  const name = doc.createElement('span')
  name.className = 'chat-name'
  name.textContent = message.username || 'anonymous'
  const content = doc.createElement('span')
  content.className = 'chat-content'
  content.textContent = message.content
  // Shown only while the list says the reader may delete (data-can-delete, see setCanDelete).
  const remove = doc.createElement('button')
  remove.type = 'button'
  remove.className = 'chat-delete'
  remove.textContent = 'Delete'
  remove.setAttribute('aria-label', 'Delete this message')
  li.append(time, ' ', name, ': ', content, ' ', remove)
  return li
}

/**
 * Shows messages in id order (the `messages` history and live `new_message`
 * pushes may interleave) and keeps the list scrolled to the newest one when
 * the reader was already at the bottom.
 */
export function appendMessages (list: HTMLElement | null, messages: ChatMessage[]): void {
  if (!list || messages.length === 0) return
  const scroller = list.parentElement ?? list
  const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40
  for (const message of messages) {
    const li = messageItem(list.ownerDocument, message)
    let after: Element | null = list.lastElementChild
    while (after && Number((after as HTMLElement).dataset.id) > message.id) after = after.previousElementSibling
    if (after) after.after(li)
    else list.prepend(li)
  }
  if (atBottom) scroller.scrollTop = scroller.scrollHeight
}

/** Wires the chat form: trims, skips empty text, clears the input once the server accepted it. */
export function bindChatForm (form: HTMLFormElement | null, send: (content: string) => Promise<void>): void {
  if (!form) return
  form.addEventListener('submit', event => {
    event.preventDefault()
    const input = form.elements.namedItem('content')
    if (!(input instanceof HTMLInputElement || input instanceof HTMLTextAreaElement)) return
    const content = input.value.trim().slice(0, MAX_MESSAGE_LENGTH)
    if (content === '') return
    form.dataset.state = 'sending'
    send(content).then(() => {
      input.value = ''
      delete form.dataset.state
      delete form.dataset.error
    }, (err: unknown) => {
      form.dataset.state = 'error'
      form.dataset.error = err instanceof Error ? err.message : String(err)
    })
  })
}

/** Owner and moderators see a delete button on every message. */
export function setCanDelete (list: HTMLElement | null, canDelete: boolean): void {
  if (!list) return
  if (canDelete) list.dataset.canDelete = 'true'
  else delete list.dataset.canDelete
}

/** Removes a deleted message from the list. */
export function removeMessage (list: HTMLElement | null, id: number): void {
  list?.querySelector(`li[data-id="${id}"]`)?.remove()
}

/** Calls `remove` with the message id when a delete button is clicked. */
export function bindMessageDelete (list: HTMLElement | null, remove: (id: number) => void): void {
  list?.addEventListener('click', (event) => {
    const button = (event.target as Element | null)?.closest('button.chat-delete')
    const id = Number(button?.closest('li')?.getAttribute('data-id'))
    if (button && Number.isSafeInteger(id)) remove(id)
  })
}
