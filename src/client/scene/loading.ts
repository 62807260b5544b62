/**
 * "Loading the room…" over the 3D view until the world has arrived (the
 * first `entities_state`), so a person never takes the empty sky for the room.
 * Returns the function that removes it.
 */
export function showLoading (canvas: HTMLCanvasElement): () => void {
  const stage = canvas.parentElement
  if (!stage) return () => {}
  const overlay = document.createElement('div')
  overlay.id = 'room-loading'
  overlay.setAttribute('role', 'status')
  overlay.textContent = 'Loading the room…'
  Object.assign(overlay.style, {
    position: 'absolute',
    inset: '0',
    display: 'flex',
    alignItems: 'center',
    justifyContent: 'center',
    background: 'linear-gradient(#4a80d1, #d1e0f0)',
    color: '#fff',
    font: '600 1.1rem system-ui, sans-serif',
    textShadow: '0 1px 3px rgba(0, 0, 0, 0.4)',
    pointerEvents: 'none',
    transition: 'opacity 0.4s'
  })
  if (getComputedStyle(stage).position === 'static') stage.style.position = 'relative'
  stage.appendChild(overlay)
  return () => {
    overlay.style.opacity = '0'
    setTimeout(() => overlay.remove(), 400)
  }
}
