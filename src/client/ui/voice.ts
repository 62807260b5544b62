import type { VoiceView } from '../voice/voice-chat.ts'

export interface VoiceControls {
  join: HTMLButtonElement | null
  mute: HTMLButtonElement | null
  message: HTMLElement | null
}

export interface VoiceActions {
  join: () => void
  leave: () => void
  toggleMute: () => void
  status: () => VoiceView['status']
}

/** The Join/Leave voice and Mute/Unmute buttons, and M to mute from anywhere but a text field. */
export function bindVoiceControls (controls: VoiceControls, actions: VoiceActions): void {
  controls.join?.addEventListener('click', () => {
    if (actions.status() === 'off') actions.join()
    else actions.leave()
  })
  controls.mute?.addEventListener('click', () => actions.toggleMute())
  const doc = controls.join?.ownerDocument
  doc?.addEventListener('keydown', event => {
    if (event.key !== 'm' && event.key !== 'M') return
    if (event.repeat || event.ctrlKey || event.metaKey || event.altKey) return
    const target = event.target as HTMLElement | null
    if (target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return
    event.preventDefault()
    actions.toggleMute()
  })
}

/** Writes the voice state into the controls (`data-state` on the join button, for styling and tests). */
export function renderVoice (controls: VoiceControls, view: VoiceView): void {
  if (controls.join) {
    controls.join.textContent = view.status === 'off' ? 'Join voice' : 'Leave voice'
    controls.join.disabled = view.status === 'starting'
    controls.join.dataset.state = view.status
  }
  if (controls.mute) {
    controls.mute.hidden = view.status !== 'on'
    controls.mute.textContent = view.muted ? 'Unmute' : 'Mute'
    controls.mute.setAttribute('aria-pressed', String(view.muted))
  }
  if (controls.message) {
    controls.message.textContent = view.message
    controls.message.hidden = view.message === ''
  }
}

/** Marks who is speaking in the people list (`li.speaking`); re-applied after each re-render. */
export function renderSpeaking (list: HTMLElement | null, speaking: ReadonlySet<string>): void {
  if (!list) return
  for (const li of list.querySelectorAll<HTMLElement>('li[data-user-id]')) {
    li.classList.toggle('speaking', speaking.has(li.dataset.userId ?? ''))
  }
}
