// Keeps the room list live: occupancy and rooms created, renamed or deleted elsewhere arrive
// as Server-Sent Events from /rooms/events. Text is only ever set with textContent.

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
  field(card, 'edit').href = `${href}/edit`
  field(card, 'name').textContent = room.name
  field(card, 'description').textContent = room.description
  field(card, 'temporary').hidden = room.persistent
}

function upsert (room) {
  let card = cardFor(room.id)
  if (!card) {
    card = template.content.firstElementChild.cloneNode(true)
    list.append(card)
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
    for (const room of rooms) upsert(room)
  },
  occupancy ({ room_id: id, count }) {
    const card = cardFor(id)
    if (card) setOccupancy(card, count)
  },
  room_created ({ room }) { upsert(room) },
  room_updated ({ room }) { upsert(room) },
  room_deleted ({ room_id: id }) { cardFor(id)?.remove() }
}

function connect () {
  const source = new EventSource('/rooms/events')
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
