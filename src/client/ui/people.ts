import type { Person } from '../presence.ts'
import type { Role } from '../../shared/roles.ts'
import { actionButtons } from './moderation.ts'

const BADGES: Partial<Record<Role, string>> = { owner: 'owner', admin: 'admin', moderator: 'moderator' }

/**
 * Replaces the list's items. Names are set with textContent only. The owner, admins and
 * moderators get a badge; a viewer who is one of them gets moderation buttons on everyone else.
 */
export function renderPeople (list: HTMLElement | null, people: Person[], selfId: string | null): void {
  if (!list) return
  const doc = list.ownerDocument
  const viewer: Role = people.find((p) => p.id === selfId)?.role ?? 'member'
  const sorted = [...people].sort((a, b) => a.username.localeCompare(b.username) || a.id.localeCompare(b.id))
  const items = sorted.map(person => {
    const li = doc.createElement('li')
    li.dataset.userId = person.id
    li.dataset.role = person.role
    const name = doc.createElement('span')
    name.className = 'person-name'
    name.textContent = person.username
    li.append(name)
    if (person.voiceSession !== null) li.append(voiceBadge(doc, 'person-voice', 'in voice'))
    if (person.muted) li.append(voiceBadge(doc, 'person-muted', 'muted'))
    const badge = BADGES[person.role]
    if (badge) {
      const span = doc.createElement('span')
      span.className = 'person-role'
      span.textContent = badge
      li.append(' ', span)
    }
    if (person.id === selfId) {
      li.classList.add('self')
      const you = doc.createElement('span')
      you.className = 'person-self'
      you.textContent = ' (you)'
      li.append(you)
    } else {
      const buttons = actionButtons(doc, viewer, person.role)
      if (buttons.length > 0) {
        const actions = doc.createElement('span')
        actions.className = 'person-actions'
        actions.append(...buttons)
        li.append(actions)
      }
    }
    return li
  })
  list.replaceChildren(...items)
}

function voiceBadge (doc: Document, className: string, text: string): HTMLElement {
  const span = doc.createElement('span')
  span.className = `badge ${className}`
  span.textContent = text
  return span
}
