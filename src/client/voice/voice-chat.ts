import type { Channel } from 'phoenix'
import type { Person } from '../presence.ts'
import { VoicePeer, type SignalKind } from './peer.ts'
import { SpatialAudio, type ListenerPose } from './spatial-audio.ts'

export type VoiceStatus = 'off' | 'starting' | 'on'

/** What the voice controls show. */
export interface VoiceView {
  status: VoiceStatus
  muted: boolean
  /** A sentence for the person (why voice is off, or what changed), or ''. */
  message: string
}

export interface VoiceChatOptions {
  channel: Channel
  selfId: () => string | null
  /** The microphone; called only when the person clicks Join voice. */
  getUserMedia: () => Promise<MediaStream>
  /** A user's head position in the scene, from the entity store. */
  headOf: (userId: string) => [number, number, number] | null
  onView: (view: VoiceView) => void
  /** Who speaks, about ten times a second (user ids; the own id when the own microphone is loud). */
  onSpeaking: (userIds: Set<string>) => void
}

interface Reply { status: 'ok' | 'error', response: Record<string, unknown> }

const REFUSED: Record<string, string> = {
  voice_full: 'Voice is full: the room has as many speakers as a voice chat can hold. Try again when someone leaves.',
  voice_muted: 'A moderator muted you: you cannot join voice in this room for now.'
}
const ENDED: Record<string, string> = {
  joined_elsewhere: 'You joined voice in another tab.',
  muted_by_moderator: 'A moderator muted you and took you out of voice.'
}

function micMessage (err: unknown): string {
  const name = (err as { name?: unknown } | null)?.name
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'Microphone access was denied. Allow it in the browser\'s site settings, then try again.'
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No microphone was found. Plug one in, then try again.'
  if (name === 'NotReadableError') return 'The microphone is in use by another program.'
  return 'The microphone could not be opened.'
}

/**
 * Voice chat in the room: the own microphone, one VoicePeer per other person in voice (a
 * mesh), their audio placed at their avatars. Who is in voice comes from presence; signals go
 * over the room channel. After a socket reconnect, voice resumes by itself.
 */
export class VoiceChat {
  readonly #o: VoiceChatOptions
  readonly #peers = new Map<string, VoicePeer>()
  #audio: SpatialAudio | null = null
  #stream: MediaStream | null = null
  #status: VoiceStatus = 'off'
  #muted = false
  #message = ''
  #session: string | null = null
  #iceServers: RTCIceServer[] = []
  #people: Person[] = []
  #meter: ReturnType<typeof setInterval> | null = null

  constructor (o: VoiceChatOptions) {
    this.#o = o
    o.channel.on('voice_signal', (payload) => { void this.#signal(payload as Record<string, unknown>) })
    o.channel.on('voice_ended', (payload) => this.#ended((payload as { reason?: unknown }).reason))
    o.channel.on('voice_moderated', (payload) => {
      if ((payload as { muted?: unknown }).muted === false) this.#show('A moderator unmuted you: you may join voice again.')
    })
  }

  get status (): VoiceStatus { return this.#status }
  get muted (): boolean { return this.#muted }
  get session (): string | null { return this.#session }
  get audio (): SpatialAudio | null { return this.#audio }
  peers (): VoicePeer[] { return [...this.#peers.values()] }

  /** Join voice (a click): asks for the microphone, then for a place in the room's voice. */
  async join (): Promise<void> {
    if (this.#status !== 'off') return
    this.#status = 'starting'
    this.#show('')
    this.#audio ??= new SpatialAudio()
    await this.#audio.resume()
    try {
      this.#stream = await this.#o.getUserMedia()
    } catch (err) {
      this.#status = 'off'
      this.#show(micMessage(err))
      return
    }
    this.#stream.getAudioTracks().forEach((track) => { track.enabled = !this.#muted })
    this.#audio.setLocal(this.#stream)
    if (!await this.#enter()) this.#stop()
  }

  async leave (): Promise<void> {
    if (this.#status === 'off') return
    this.#stop()
    this.#show('')
    await this.#push('voice_leave', {})
  }

  async toggleMute (): Promise<void> {
    if (this.#status !== 'on') return
    this.#muted = !this.#muted
    this.#stream?.getAudioTracks().forEach((track) => { track.enabled = !this.#muted })
    this.#show(this.#message)
    await this.#push('voice_mute', { muted: this.#muted })
  }

  /** The room channel (re)joined: a voice that was on comes back without a click. */
  rejoined (): void {
    if (this.#status !== 'on') return
    this.#closePeers()
    this.#session = null
    void this.#enter().then((ok) => { if (!ok) this.#stop() })
  }

  /** Presence changed: connect to whoever is in voice, drop who left or came back anew. */
  people (people: Person[]): void {
    this.#people = people
    this.#sync()
  }

  /** Some entities changed: voices follow their avatars' heads. */
  moved (ids: Iterable<string>): void {
    if (!this.#audio) return
    for (const id of ids) if (this.#peers.has(id)) this.#place(id)
  }

  /** The listener is the own camera (desktop or VR), every frame. */
  listen (pose: ListenerPose): void {
    this.#audio?.setListener(pose)
  }

  async #enter (): Promise<boolean> {
    const reply = await this.#push('voice_join', { muted: this.#muted })
    if (reply.status !== 'ok') {
      const reason = String(reply.response.reason ?? 'unavailable')
      this.#show(REFUSED[reason] ?? `Voice is unavailable (${reason}).`)
      return false
    }
    this.#iceServers = Array.isArray(reply.response.ice_servers) ? reply.response.ice_servers as RTCIceServer[] : []
    this.#session = typeof reply.response.session === 'string' ? reply.response.session : null
    this.#status = 'on'
    this.#meter ??= setInterval(() => this.#measure(), 100)
    this.#show(this.#message)
    this.#sync()
    return true
  }

  #stop (): void {
    this.#closePeers()
    this.#stream?.getTracks().forEach((track) => track.stop())
    this.#stream = null
    this.#audio?.setLocal(null)
    this.#status = 'off'
    this.#session = null
    if (this.#meter !== null) clearInterval(this.#meter)
    this.#meter = null
    this.#o.onSpeaking(new Set())
    this.#show(this.#message)
  }

  #ended (reason: unknown): void {
    this.#stop()
    this.#show(ENDED[String(reason)] ?? 'Voice ended.')
  }

  #sync (): void {
    const self = this.#o.selfId()
    const wanted = new Map<string, string>()
    if (this.#status === 'on') {
      for (const person of this.#people) if (person.id !== self && person.voiceSession !== null) wanted.set(person.id, person.voiceSession)
    }
    for (const [userId, peer] of this.#peers) {
      if (wanted.get(userId) !== peer.session) this.#drop(userId)
    }
    // The impolite side (the greater id) offers first; the other answers when its offer comes
    // (see #signal), so two fresh peers rarely collide. Later renegotiations may start on either side.
    for (const [userId, session] of wanted) if (!this.#peers.has(userId) && self !== null && self > userId) this.#connect(userId, session)
  }

  #connect (userId: string, session: string): VoicePeer | null {
    const self = this.#o.selfId()
    const track = this.#stream?.getAudioTracks()[0]
    if (self === null || !track || !this.#stream) return null
    const peer = new VoicePeer({
      userId,
      session,
      polite: self < userId,
      iceServers: this.#iceServers,
      track,
      stream: this.#stream,
      send: (kind, data) => {
        void this.#push('voice_signal', { to: userId, kind, data }).then((reply) => {
          if (reply.status === 'error') console.warn(`voice: ${kind} to ${userId} refused`, reply.response)
        })
      },
      onStream: (stream) => {
        if (peer.closed) return
        this.#audio?.add(userId, stream)
        this.#place(userId)
      }
    })
    this.#peers.set(userId, peer)
    return peer
  }

  #drop (userId: string): void {
    this.#peers.get(userId)?.close()
    this.#peers.delete(userId)
    this.#audio?.remove(userId)
  }

  #closePeers (): void {
    for (const userId of [...this.#peers.keys()]) this.#drop(userId)
  }

  async #signal (payload: Record<string, unknown>): Promise<void> {
    if (this.#status !== 'on') return
    const { from, from_session: session, kind, data } = payload
    if (typeof from !== 'string' || typeof session !== 'string' || (kind !== 'offer' && kind !== 'answer' && kind !== 'candidate')) return
    let peer = this.#peers.get(from)
    // A signal can overtake the presence change announcing its session.
    if (peer && peer.session !== session) {
      this.#drop(from)
      peer = undefined
    }
    peer ??= this.#connect(from, session) ?? undefined
    await peer?.receive(kind as SignalKind, data)
  }

  #place (userId: string): void {
    const head = this.#o.headOf(userId)
    if (head) this.#audio?.place(userId, head[0], head[1], head[2])
  }

  #measure (): void {
    const self = this.#o.selfId()
    if (!this.#audio || self === null) return
    const loud = this.#audio.speaking(self)
    if (this.#muted) loud.delete(self)
    this.#o.onSpeaking(loud)
  }

  #show (message: string): void {
    this.#message = message
    this.#o.onView({ status: this.#status, muted: this.#muted, message })
  }

  async #push (event: string, payload: object): Promise<Reply> {
    return await new Promise<Reply>((resolve) => {
      this.#o.channel.push(event, payload)
        .receive('ok', (response?: Record<string, unknown>) => resolve({ status: 'ok', response: response ?? {} }))
        .receive('error', (response?: Record<string, unknown>) => resolve({ status: 'error', response: response ?? {} }))
        .receive('timeout', () => resolve({ status: 'error', response: { reason: 'timeout' } }))
    })
  }
}
