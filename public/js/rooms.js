// Keeps the room list live: occupancy and rooms created, renamed or deleted elsewhere arrive
// as Server-Sent Events from /rooms/events. Text is only ever set with textContent.
// The cards shown stay up to date; rooms not shown are added only on the first page of the
// unfiltered list (newest first), and the order is the server's again at the next load.

const list = document.getElementById('rooms')
const empty = document.getElementById('rooms-empty')
const template = document.getElementById('room-card-template')
// EventSource gives up for good on an HTTP error (the database being down, say): retry slowly.
const RECONNECT_MS = 10_000

function cardFor (id) {
  for (const card of list.children) if (card.dataset.roomId === id) return card
  return null
}

function field (card, name) {
  return card.querySelector(`[data-field="${name}"]`)
}

function setOccupancy (card, count) {
  field(card, 'occupancy').textContent = String(count)
  field(card, 'occupancy').parentElement.dataset.occupancy = String(count)
}

function fill (card, room) {
  const href = `/rooms/${encodeURIComponent(room.id)}`
  card.dataset.roomId = room.id
  card.querySelector('a').href = href
  const edit = field(card, 'edit')
  if (edit) edit.href = `${href}/edit`
  field(card, 'name').textContent = room.name
  field(card, 'description').textContent = room.description
  field(card, 'temporary').hidden = room.persistent
}

const firstPage = list?.dataset.page === '1' && !list?.dataset.query
const pageSize = Number(list?.dataset.pageSize) || 24

function upsert (room, { add }) {
  let card = cardFor(room.id)
  if (!card) {
    if (!add) return
    card = template.content.firstElementChild.cloneNode(true)
    const firstIdle = [...list.children].find((other) => field(other, 'occupancy').textContent === '0')
    list.insertBefore(card, firstIdle ?? null)
    while (list.children.length > pageSize) list.lastElementChild.remove()
  }
  fill(card, room)
  if (typeof room.occupancy === 'number') setOccupancy(card, room.occupancy)
}

function updateEmptyState () {
  empty.hidden = list.children.length > 0
}

const handlers = {
  // The whole list as the server sees it: brings a page back in line after a reconnect.
  snapshot ({ rooms }) {
    const ids = new Set(rooms.map((room) => room.id))
    for (const card of [...list.children]) if (!ids.has(card.dataset.roomId)) card.remove()
    // The snapshot is this page of the list: its order wins.
    for (const room of rooms) upsert(room, { add: true })
    for (const room of rooms) list.append(cardFor(room.id))
  },
  occupancy ({ room_id: id, count }) {
    const card = cardFor(id)
    if (card) setOccupancy(card, count)
  },
  room_created ({ room }) { upsert(room, { add: firstPage }) },
  // Also a room that was unlisted and is public now.
  room_updated ({ room }) { upsert(room, { add: firstPage }) },
  room_deleted ({ room_id: id }) { cardFor(id)?.remove() }
}

function connect () {
  const source = new EventSource(`/rooms/events${window.location.search}`)
  for (const [type, handle] of Object.entries(handlers)) {
    source.addEventListener(type, (event) => {
      handle(JSON.parse(event.data))
      updateEmptyState()
    })
  }
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, RECONNECT_MS)
  })
}

if (list && empty && template && 'EventSource' in window) connect()
