import { mayModerate, type Authority, type Role } from '../../shared/roles.ts'

/** The `moderate` actions the people list offers, and who may take each. */
const ACTIONS: Array<{ action: string, label: string, authority: Authority, shows: (target: Role) => boolean }> = [
  { action: 'kick', label: 'Kick', authority: 'staff', shows: () => true },
  { action: 'mute_chat', label: 'Mute chat', authority: 'staff', shows: () => true },
  { action: 'unmute_chat', label: 'Unmute', authority: 'staff', shows: () => true },
  { action: 'promote', label: 'Make moderator', authority: 'owner', shows: (target) => target === 'member' },
  { action: 'demote', label: 'Remove moderator', authority: 'owner', shows: (target) => target === 'moderator' }
]

/** The buttons a viewer with `viewer` role gets for a person with `target` role: the actions the server would allow. */
export function actionButtons (doc: Document, viewer: Role, target: Role): HTMLButtonElement[] {
  return ACTIONS.filter((a) => mayModerate(viewer, target, a.authority) && a.shows(target)).map((a) => {
    const button = doc.createElement('button')
    button.type = 'button'
    button.className = 'person-action'
    button.dataset.action = a.action
    button.textContent = a.label
    return button
  })
}

/** Calls `moderate` when one of the list's action buttons is clicked. */
export function bindPeopleActions (list: HTMLElement | null, moderate: (action: string, userId: string) => void): void {
  list?.addEventListener('click', (event) => {
    const button = (event.target as Element | null)?.closest('button.person-action')
    const userId = button?.closest('li')?.getAttribute('data-user-id')
    const action = button?.getAttribute('data-action')
    if (userId && action) moderate(action, userId)
  })
}
