/** What the connection status line shows. */
export const CONNECTION_STATUSES = ['connecting', 'connected', 'reconnecting', 'refused'] as const
export type ConnectionStatus = typeof CONNECTION_STATUSES[number]

const TEXT: Record<ConnectionStatus, string> = {
  connecting: 'connecting',
  connected: 'connected',
  reconnecting: 'reconnecting',
  refused: 'refused'
}

/** Writes the status as text and as `data-state` (for styling and tests). */
export function renderStatus (el: HTMLElement | null, status: ConnectionStatus, detail?: string): void {
  if (!el) return
  el.textContent = detail ? `${TEXT[status]}: ${detail}` : TEXT[status]
  el.dataset.state = status
}
