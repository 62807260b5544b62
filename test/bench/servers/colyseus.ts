/**
 * The Colyseus peer (0.16): a room whose schema state holds every player's head and hands,
 * patched to clients every 50 ms, taking the same `i_moved` message as xr-rooms. Poses are
 * float32 arrays, as a Colyseus developer would write them; the tags (move number, sender)
 * are integers well below 2^24 and pass through exactly.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { matchMaker, Room, Server, type Client } from '@colyseus/core'
import { ArraySchema, Encoder, MapSchema, Schema, defineTypes } from '@colyseus/schema'
import { WebSocketTransport } from '@colyseus/ws-transport'
import { benchEntities, type BenchServer } from './server.ts'

// Fields are assigned in constructors, not declared with initializers: a class field would be
// defined on the instance and hide the accessors through which the schema tracks changes.
class Player extends Schema {
  declare head: ArraySchema<number>
  declare left: ArraySchema<number>
  declare right: ArraySchema<number>
  constructor () {
    super()
    this.head = new ArraySchema<number>(0, 0, 0, 0, 0, 0, 1)
    // -1: no move yet (the tag slots).
    this.left = new ArraySchema<number>(-1, -1, 0, 0, 0, 0, 1)
    this.right = new ArraySchema<number>(0, 0, 0, 0, 0, 0, 1)
  }
}
defineTypes(Player, { head: ['float32'], left: ['float32'], right: ['float32'] })

/** A static entity, for the join benchmark: what xr-rooms' generated boxes hold. */
class Entity extends Schema {
  declare mesh: string
  declare size: number
  declare position: ArraySchema<number>
  declare color: ArraySchema<number>
  declare teleportable: boolean
}
defineTypes(Entity, { mesh: 'string', size: 'float32', position: ['float32'], color: ['float32'], teleportable: 'boolean' })

class State extends Schema {
  declare players: MapSchema<Player>
  declare entities: MapSchema<Entity>
  constructor () {
    super()
    this.players = new MapSchema<Player>()
    this.entities = new MapSchema<Entity>()
  }
}
defineTypes(State, { players: { map: Player }, entities: { map: Entity } })

const isPose = (value: unknown): value is number[] =>
  Array.isArray(value) && value.length === 7 && value.every((n) => typeof n === 'number' && n >= -100_000 && n <= 100_000)

function copy (target: ArraySchema<number>, source: number[]): void {
  for (let i = 0; i < 7; i++) if (target[i] !== source[i]) target[i] = source[i]
}

class BenchRoom extends Room<State> {
  maxClients = 10_000
  autoDispose = false

  onCreate (options: { entities?: number }): void {
    this.setState(new State())
    this.patchRate = 50
    for (const [id, components] of Object.entries(benchEntities(options.entities ?? 0))) {
      const entity = new Entity()
      entity.mesh = (components.mesh_builder as [string])[0]
      entity.size = (components.mesh_builder as [string, { size: number }])[1].size
      entity.position = new ArraySchema<number>(...(components.position as number[]))
      entity.color = new ArraySchema<number>(...(components.color as number[]))
      entity.teleportable = components.teleportable as boolean
      this.state.entities.set(id, entity)
    }
    this.onMessage('i_moved', (client: Client, message: { pose?: { head?: unknown, left?: unknown, right?: unknown } }) => {
      const pose = message?.pose
      const player = this.state.players.get(client.sessionId)
      if (!player || !pose || !isPose(pose.head)) return
      copy(player.head, pose.head)
      if (isPose(pose.left)) copy(player.left, pose.left)
      if (isPose(pose.right)) copy(player.right, pose.right)
    })
  }

  onJoin (client: Client): void {
    this.state.players.set(client.sessionId, new Player())
  }

  onLeave (client: Client): void {
    this.state.players.delete(client.sessionId)
  }
}

export async function startColyseus (): Promise<BenchServer> {
  // The full state of a 10,000-entity room (join benchmark) is about 0.8 MB; the default buffer is 8 KB.
  Encoder.BUFFER_SIZE = 4 * 1024 * 1024
  const server = http.createServer()
  const gameServer = new Server({ transport: new WebSocketTransport({ server, perMessageDeflate: false, maxPayload: 64 * 1024 }), greet: false })
  gameServer.define('bench', BenchRoom)
  await gameServer.listen(0, '127.0.0.1')
  const port = (server.address() as AddressInfo).port
  return {
    port,
    createRooms: async (count, entities = 0) => {
      const ids: string[] = []
      for (let i = 0; i < count; i++) ids.push((await matchMaker.createRoom('bench', { entities })).roomId)
      return ids
    },
    close: async () => { await gameServer.gracefullyShutdown(false) }
  }
}
