import type { Person } from '../presence.ts'

/** Replaces the list's items. Names are set with textContent only. */
export function renderPeople (list: HTMLElement | null, people: Person[], selfId: string | null): void {
  if (!list) return
  const doc = list.ownerDocument
  const sorted = [...people].sort((a, b) => a.username.localeCompare(b.username) || a.id.localeCompare(b.id))
  const items = sorted.map(person => {
    const li = doc.createElement('li')
    li.dataset.userId = person.id
    const name = doc.createElement('span')
    name.className = 'person-name'
    name.textContent = person.username
    li.append(name)
    if (person.voiceSession !== null) li.append(badge(doc, 'person-voice', 'in voice'))
    if (person.muted) li.append(badge(doc, 'person-muted', 'muted'))
    if (person.id === selfId) {
      li.classList.add('self')
      const you = doc.createElement('span')
      you.className = 'person-self'
      you.textContent = ' (you)'
      li.append(you)
    }
    return li
  })
  list.replaceChildren(...items)
}

function badge (doc: Document, className: string, text: string): HTMLElement {
  const span = doc.createElement('span')
  span.className = `badge ${className}`
  span.textContent = text
  return span
}
