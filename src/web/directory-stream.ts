import { PassThrough } from 'node:stream'
import type { FastifyBaseLogger, FastifyReply } from 'fastify'
import type { DirectoryEvent, RoomDirectory, RoomSummary } from './room-directory.ts'

/** A room as the `snapshot` event lists it. */
export interface RoomOccupancy extends RoomSummary {
  occupancy: number
}

export interface DirectoryStreamOptions {
  directory: RoomDirectory
  /** How often a comment line keeps idle connections (and proxies) open. */
  heartbeatMs: number
  log: FastifyBaseLogger
}

// A client that cannot keep up is dropped; EventSource reconnects and gets a fresh snapshot.
const MAX_BUFFERED_BYTES = 1024 * 1024
// How long EventSource waits before reconnecting after the stream ends.
const RETRY_MS = 3000

/** One Server-Sent Events frame. JSON never contains a raw newline, so `data` is one line. */
export function sseFrame (event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

interface Client {
  stream: PassThrough
  /** Frames published while the snapshot was being read; null once the client is live. */
  pending: string[] | null
}

/**
 * The `/rooms/events` Server-Sent Events stream: one directory subscription for all clients,
 * each event encoded once. A client first gets `snapshot` (the rooms of its page of the list,
 * with their occupancy), then the public list's events (none about unlisted rooms); a comment line every `heartbeatMs` keeps the connection open.
 */
export class DirectoryStream {
  private readonly clients = new Set<Client>()
  private readonly unsubscribe: () => void
  private readonly heartbeat: NodeJS.Timeout

  constructor (private readonly opts: DirectoryStreamOptions) {
    this.unsubscribe = opts.directory.subscribeListed((event: DirectoryEvent) => this.broadcast(sseFrame(event.type, event)))
    this.heartbeat = setInterval(() => this.broadcast(': heartbeat\n\n'), opts.heartbeatMs)
    this.heartbeat.unref()
  }

  get size (): number {
    return this.clients.size
  }

  /**
   * Streams to this reply. Events published while `loadRooms` runs are queued and sent after
   * the snapshot, so none is lost in between; if it fails, nothing was sent and it throws.
   */
  async open (reply: FastifyReply, loadRooms: () => Promise<RoomOccupancy[]>): Promise<FastifyReply> {
    const client: Client = { stream: new PassThrough(), pending: [] }
    this.clients.add(client)
    const drop = (): void => { this.drop(client) }
    reply.raw.once('close', drop)
    let rooms: RoomOccupancy[]
    try {
      rooms = await loadRooms()
    } catch (err) {
      reply.raw.off('close', drop)
      this.clients.delete(client)
      throw err
    }
    client.stream.write(`retry: ${RETRY_MS}\n\n`)
    client.stream.write(sseFrame('snapshot', { rooms }))
    for (const frame of client.pending ?? []) client.stream.write(frame)
    client.pending = null
    return reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache, no-transform')
      // nginx would otherwise buffer the stream.
      .header('x-accel-buffering', 'no')
      .send(client.stream)
  }

  /** Ends every stream (the server is closing) and stops listening. */
  close (): void {
    clearInterval(this.heartbeat)
    this.unsubscribe()
    for (const client of this.clients) this.drop(client)
  }

  private broadcast (frame: string): void {
    for (const client of this.clients) {
      if (client.pending) {
        // A heartbeat means nothing before the snapshot.
        if (!frame.startsWith(':')) client.pending.push(frame)
      } else if (client.stream.writableLength > MAX_BUFFERED_BYTES) {
        this.opts.log.warn('room list stream client too slow; dropping it')
        this.drop(client)
      } else {
        client.stream.write(frame)
      }
    }
  }

  private drop (client: Client): void {
    this.clients.delete(client)
    if (!client.stream.writableEnded) client.stream.end()
  }
}
