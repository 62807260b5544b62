/** What a peer connection sends through the room channel. */
export type SignalKind = 'offer' | 'answer' | 'candidate'

export interface PeerOptions {
  /** The remote user and their voice session (a new session is a new connection). */
  userId: string
  session: string
  /** The polite peer gives way when both offer at once (perfect negotiation). */
  polite: boolean
  iceServers: RTCIceServer[]
  /** The own microphone track, sent to the peer. */
  track: MediaStreamTrack
  stream: MediaStream
  send: (kind: SignalKind, data: unknown) => void
  /** The remote audio arrived (or changed). */
  onStream: (stream: MediaStream) => void
}

/**
 * One RTCPeerConnection to one other person in voice, negotiated with the "perfect
 * negotiation" pattern (https://w3c.github.io/webrtc-pc/#perfect-negotiation-example): both
 * sides may offer at any time; on a collision the impolite side ignores the other's offer and
 * the polite side rolls back its own. A failed ICE connection is restarted, which negotiates anew.
 */
export class VoicePeer {
  readonly pc: RTCPeerConnection
  readonly userId: string
  readonly session: string
  readonly #o: PeerOptions
  #makingOffer = false
  #ignoreOffer = false
  #closed = false
  #received: Promise<void> = Promise.resolve()
  #early: Array<RTCIceCandidateInit | null> = []

  constructor (o: PeerOptions) {
    this.#o = o
    this.userId = o.userId
    this.session = o.session
    this.pc = new RTCPeerConnection({ iceServers: o.iceServers })
    this.pc.addTrack(o.track, o.stream)
    this.pc.onnegotiationneeded = () => { void this.#offer() }
    this.pc.onicecandidate = ({ candidate }) => o.send('candidate', candidate ? candidate.toJSON() : null)
    this.pc.ontrack = ({ track, streams }) => o.onStream(streams[0] ?? new MediaStream([track]))
    this.pc.oniceconnectionstatechange = () => {
      if (this.pc.iceConnectionState === 'failed') this.pc.restartIce()
    }
  }

  get closed (): boolean {
    return this.#closed
  }

  /** A signal from this peer; signals are applied one at a time, in arrival order. */
  async receive (kind: SignalKind, data: unknown): Promise<void> {
    const next = this.#received.then(() => this.#apply(kind, data))
    this.#received = next
    await next
  }

  async #apply (kind: SignalKind, data: unknown): Promise<void> {
    if (this.#closed) return
    const pc = this.pc
    try {
      if (kind === 'candidate') {
        // Candidates can come before the description they belong to (the polite side's
        // rolled-back offer shares its ICE credentials with its answer): kept until then.
        if (pc.remoteDescription === null) this.#early.push(data as RTCIceCandidateInit | null)
        else await this.#addCandidate(data as RTCIceCandidateInit | null)
        return
      }
      const description = data as RTCSessionDescriptionInit
      const readyForOffer = !this.#makingOffer && pc.signalingState === 'stable'
      const collision = description.type === 'offer' && !readyForOffer
      this.#ignoreOffer = !this.#o.polite && collision
      if (this.#ignoreOffer) return
      await pc.setRemoteDescription(description)
      for (const candidate of this.#early.splice(0)) await this.#addCandidate(candidate)
      if (description.type === 'offer') {
        await pc.setLocalDescription()
        this.#sendDescription()
      }
    } catch (err) {
      console.warn(`voice: signal from ${this.userId} failed`, err)
    }
  }

  async #addCandidate (candidate: RTCIceCandidateInit | null): Promise<void> {
    try {
      await this.pc.addIceCandidate(candidate ?? undefined)
    } catch (err) {
      // Those of an ignored offer, or of a description since replaced, do not apply.
      if (!this.#ignoreOffer) console.debug(`voice: candidate from ${this.userId} not added`, err)
    }
  }

  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.pc.close()
  }

  async #offer (): Promise<void> {
    try {
      this.#makingOffer = true
      await this.pc.setLocalDescription()
      this.#sendDescription()
    } catch (err) {
      console.warn(`voice: offer to ${this.userId} failed`, err)
    } finally {
      this.#makingOffer = false
    }
  }

  #sendDescription (): void {
    const description = this.pc.localDescription
    if (description && !this.#closed) this.#o.send(description.type as SignalKind, { type: description.type, sdp: description.sdp })
  }
}
