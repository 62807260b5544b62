/** What a refusal or a removal means, in words, by the server's `reason`. */
const untilText = (iso: unknown): string => {
  const d = typeof iso === 'string' ? new Date(iso) : null
  return d && !Number.isNaN(d.getTime()) ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : 'a while'
}

export function noticeText (reason: string, details: Record<string, unknown> = {}): string {
  switch (reason) {
    case 'kicked': {
      const by = typeof details.by === 'string' && details.by !== '' ? details.by : 'a moderator'
      return `You were removed from this room by ${by}. You may come back after ${untilText(details.until)}.`
    }
    case 'banned': return `You were removed from this room and may come back after ${untilText(details.until)}.`
    case 'room_full': return 'This room is full. Try again when someone leaves.'
    case 'room_locked': return 'This room is locked: nobody new may enter right now.'
    case 'forbidden': return 'Only the room\'s owner and moderators may do that here.'
    case 'muted': return 'A moderator muted you: your messages are not sent.'
    default: return reason
  }
}

/** Shows the notice (text only) in the page's alert line. */
export function showNotice (el: HTMLElement | null, reason: string, details?: Record<string, unknown>): void {
  if (!el) return
  el.textContent = noticeText(reason, details)
  el.dataset.reason = reason
  el.hidden = false
}
