/** A viewer's standing in the room, from their own presence meta. */
export type Role = 'owner' | 'admin' | 'moderator' | 'member'

export const isStaff = (role: Role): boolean => role !== 'member'

/** Owner and admins: they alone promote and demote, and nobody acts on them. */
const inCharge = (role: Role): boolean => role === 'owner' || role === 'admin'

/** The `moderate` actions the people list offers, and who may take each. */
const ACTIONS: Array<{ action: string, label: string, ownerOnly: boolean, shows: (target: Role) => boolean }> = [
  { action: 'kick', label: 'Kick', ownerOnly: false, shows: () => true },
  { action: 'mute_chat', label: 'Mute chat', ownerOnly: false, shows: () => true },
  { action: 'unmute_chat', label: 'Unmute', ownerOnly: false, shows: () => true },
  { action: 'promote', label: 'Make moderator', ownerOnly: true, shows: (target) => target === 'member' },
  { action: 'demote', label: 'Remove moderator', ownerOnly: true, shows: (target) => target === 'moderator' }
]

/** The buttons a viewer with `viewer` role gets for a person with `target` role (none for the owner or an admin). */
export function actionButtons (doc: Document, viewer: Role, target: Role): HTMLButtonElement[] {
  if (!isStaff(viewer) || inCharge(target)) return []
  return ACTIONS.filter((a) => (!a.ownerOnly || inCharge(viewer)) && a.shows(target)).map((a) => {
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
