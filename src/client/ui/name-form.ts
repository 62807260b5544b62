/** What `/session/name` may answer with JSON; both fields optional. */
export interface NameChangeResult {
  username: string
  /** A fresh socket token, when the server puts the name into the token. */
  userToken: string | null
}

/**
 * Wires the display name form: POSTs `username` as a form field to
 * `/session/name` with the `x-csrf-token` header, then calls `changed`
 * (which reconnects the socket so the server sees the new name).
 */
export function bindNameForm (
  form: HTMLFormElement | null,
  csrfToken: string | null,
  changed: (result: NameChangeResult) => void
): void {
  if (!form) return
  form.addEventListener('submit', event => {
    event.preventDefault()
    const input = form.elements.namedItem('username')
    if (!(input instanceof HTMLInputElement)) return
    const username = input.value.trim()
    if (username === '') return
    form.dataset.state = 'saving'
    postName(form.getAttribute('action') || '/session/name', username, csrfToken).then(result => {
      form.dataset.state = 'saved'
      delete form.dataset.error
      input.value = result.username
      changed(result)
    }, (err: unknown) => {
      form.dataset.state = 'error'
      form.dataset.error = err instanceof Error ? err.message : String(err)
    })
  })
}

async function postName (url: string, username: string, csrfToken: string | null): Promise<NameChangeResult> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json'
  }
  if (csrfToken) headers['x-csrf-token'] = csrfToken
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: new URLSearchParams({ username }).toString(),
    credentials: 'same-origin'
  })
  if (!res.ok) throw new Error(`name change failed (${res.status})`)
  let body: Record<string, unknown> = {}
  if ((res.headers.get('content-type') ?? '').includes('application/json')) {
    const parsed: unknown = await res.json().catch(() => null)
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>
  }
  return {
    username: typeof body.username === 'string' && body.username !== '' ? body.username : username,
    userToken: typeof body.user_token === 'string' && body.user_token !== '' ? body.user_token : null
  }
}
