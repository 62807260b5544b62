/**
 * The two baselines that bound what is possible, on bare `ws` (no framework, no validation):
 *
 * - ws-relay: forwards every move, as received, to every other member of its room at once: no
 *   batching, no parsing, one buffer for all recipients.
 * - ws-floor: reads nothing; every 50 ms it sends each member of a room one pre-serialized
 *   entities_diff the size of that room's diff (every member's head and hands), stamped with
 *   the send time: the cost of the sends alone.
 *
 * Rooms are just names (`/?room=<name>`); a connection without one is in no room (an idle
 * connection, for the memory measurement).
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import { Mover } from '../lib/pose.ts'
import type { BenchServer } from './server.ts'

const PATCH_MS = 50
const MAX_PAYLOAD = 64 * 1024

function roomOf (url: string | undefined): string {
  return new URL(url ?? '/', 'http://x').searchParams.get('room') ?? ''
}

async function listen (server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

function names (prefix: string): (count: number) => Promise<string[]> {
  let next = 0
  return async (count) => Array.from({ length: count }, () => `${prefix}${next++}`)
}

export async function startRelay (): Promise<BenchServer> {
  const server = http.createServer()
  const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: MAX_PAYLOAD })
  const rooms = new Map<string, Set<WebSocket>>()
  wss.on('connection', (ws, request) => {
    const name = roomOf(request.url)
    ws.on('error', () => {})
    if (name === '') return
    let members = rooms.get(name)
    if (!members) rooms.set(name, members = new Set())
    members.add(ws)
    ws.on('message', (data: Buffer, isBinary) => {
      for (const peer of members) if (peer !== ws) peer.send(data, { binary: isBinary })
    })
    ws.on('close', () => {
      members.delete(ws)
      if (members.size === 0) rooms.delete(name)
    })
  })
  const port = await listen(server)
  return {
    port,
    createRooms: names('relay'),
    close: async () => {
      for (const ws of wss.clients) ws.terminate()
      await new Promise((resolve) => wss.close(resolve))
      await new Promise((resolve) => server.close(resolve))
    }
  }
}

/** A diff frame for `members` users, split around the stamp: `prefix + stamp + suffix`. */
function template (room: string, members: number): [string, string] {
  const updates: Record<string, unknown> = {}
  // Poses as the generator makes them, so the frame is the size of a real room's diff.
  for (let i = 0; i < members; i++) updates[`u${1000 + i}`] = new Mover(1000 + i).pose(1000 + i, 12_345)
  const body = JSON.stringify({ creates: {}, updates, deletes: {} }).slice(1)
  return [`[null,null,${JSON.stringify(`room:${room}`)},"entities_diff",{"t":`, `,${body}]`]
}

export async function startFloor (): Promise<BenchServer> {
  const server = http.createServer()
  const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: MAX_PAYLOAD })
  interface Room { members: Set<WebSocket>, frame: [string, string] | null, timer: NodeJS.Timeout }
  const rooms = new Map<string, Room>()
  const tick = (name: string, room: Room): void => {
    if (room.members.size === 0) return
    room.frame ??= template(name, room.members.size)
    const data = Buffer.from(room.frame[0] + (performance.timeOrigin + performance.now()).toFixed(3) + room.frame[1])
    for (const ws of room.members) ws.send(data, { binary: false })
  }
  wss.on('connection', (ws, request) => {
    const name = roomOf(request.url)
    ws.on('error', () => {})
    if (name === '') return
    let room = rooms.get(name)
    if (!room) {
      const created: Room = { members: new Set(), frame: null, timer: setInterval(() => tick(name, created), PATCH_MS) }
      rooms.set(name, room = created)
    }
    const joined = room
    joined.members.add(ws)
    joined.frame = null
    ws.on('close', () => {
      joined.members.delete(ws)
      joined.frame = null
      if (joined.members.size === 0) {
        clearInterval(joined.timer)
        rooms.delete(name)
      }
    })
  })
  const port = await listen(server)
  return {
    port,
    createRooms: names('floor'),
    close: async () => {
      for (const room of rooms.values()) clearInterval(room.timer)
      for (const ws of wss.clients) ws.terminate()
      await new Promise((resolve) => wss.close(resolve))
      await new Promise((resolve) => server.close(resolve))
    }
  }
}
