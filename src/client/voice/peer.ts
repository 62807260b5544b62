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
  #answerPending = false
  #closed = false

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

  /** A signal from this peer. */
  async receive (kind: SignalKind, data: unknown): Promise<void> {
    if (this.#closed) return
    const pc = this.pc
    try {
      if (kind === 'candidate') {
        try {
          await pc.addIceCandidate(data === null ? undefined : data as RTCIceCandidateInit)
        } catch (err) {
          if (!this.#ignoreOffer) throw err
        }
        return
      }
      const description = data as RTCSessionDescriptionInit
      const readyForOffer = !this.#makingOffer && (pc.signalingState === 'stable' || this.#answerPending)
      const collision = description.type === 'offer' && !readyForOffer
      this.#ignoreOffer = !this.#o.polite && collision
      if (this.#ignoreOffer) return
      this.#answerPending = description.type === 'answer'
      await pc.setRemoteDescription(description)
      this.#answerPending = false
      if (description.type === 'offer') {
        await pc.setLocalDescription()
        this.#sendDescription()
      }
    } catch (err) {
      console.warn(`voice: signal from ${this.userId} failed`, err)
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
