/** [x, y, z] in the audio space: the scene's, with z negated (Babylon is left-handed, Web Audio right-handed). */
export type AudioVec = [number, number, number]

/** What a listener's pose is made of, in scene coordinates. */
export interface ListenerPose {
  position: { x: number, y: number, z: number }
  forward: { x: number, y: number, z: number }
  up: { x: number, y: number, z: number }
}

interface Voice {
  /** Chromium feeds a remote WebRTC stream to Web Audio only while a media element plays it. */
  element: HTMLAudioElement
  source: MediaStreamAudioSourceNode
  analyser: AnalyserNode
  panner: PannerNode
}

/** Loudness (RMS of the waveform, 0..1) above which someone counts as speaking. */
const SPEAKING_RMS = 0.015

/**
 * Every remote voice through Web Audio: source → HRTF panner at the speaker's head →
 * speakers, with an analyser beside it for the speaking indicator. Distance falls off as
 * 1 / (1 + rolloff (d - 1)): full volume within a metre, a tenth at ten metres.
 */
export class SpatialAudio {
  readonly context: AudioContext
  readonly #voices = new Map<string, Voice>()
  readonly #buffer = new Float32Array(1024)
  #local: AnalyserNode | null = null

  constructor () {
    this.context = new AudioContext()
  }

  /** Contexts start suspended without a user gesture; call from one. */
  async resume (): Promise<void> {
    if (this.context.state === 'suspended') await this.context.resume()
  }

  /** The own microphone, only measured (never played back). */
  setLocal (stream: MediaStream | null): void {
    this.#local?.disconnect()
    this.#local = null
    if (!stream) return
    const analyser = this.context.createAnalyser()
    analyser.fftSize = 1024
    this.context.createMediaStreamSource(stream).connect(analyser)
    this.#local = analyser
  }

  add (userId: string, stream: MediaStream): void {
    this.remove(userId)
    const ctx = this.context
    const element = new Audio()
    element.srcObject = stream
    void element.play().catch(() => {})
    // The element must play unmuted (its volume scales what WebRTC decodes and reports in
    // getStats), but only the panned copy may be heard: its own output goes into a node
    // connected to nothing.
    ctx.createMediaElementSource(element)
    const source = ctx.createMediaStreamSource(stream)
    const analyser = ctx.createAnalyser()
    analyser.fftSize = 1024
    const panner = new PannerNode(ctx, {
      panningModel: 'HRTF',
      distanceModel: 'inverse',
      refDistance: 1,
      rolloffFactor: 1,
      maxDistance: 100
    })
    source.connect(analyser)
    source.connect(panner).connect(ctx.destination)
    this.#voices.set(userId, { element, source, analyser, panner })
  }

  remove (userId: string): void {
    const voice = this.#voices.get(userId)
    if (!voice) return
    this.#voices.delete(userId)
    voice.source.disconnect()
    voice.panner.disconnect()
    voice.element.srcObject = null
  }

  has (userId: string): boolean {
    return this.#voices.has(userId)
  }

  /** Places a voice at a head position given in scene coordinates. */
  place (userId: string, x: number, y: number, z: number): void {
    const panner = this.#voices.get(userId)?.panner
    if (!panner) return
    panner.positionX.value = x
    panner.positionY.value = y
    panner.positionZ.value = -z
  }

  pannerPosition (userId: string): AudioVec | null {
    const panner = this.#voices.get(userId)?.panner
    return panner ? [panner.positionX.value, panner.positionY.value, panner.positionZ.value] : null
  }

  setListener ({ position: p, forward: f, up: u }: ListenerPose): void {
    const l = this.context.listener
    l.positionX.value = p.x
    l.positionY.value = p.y
    l.positionZ.value = -p.z
    l.forwardX.value = f.x
    l.forwardY.value = f.y
    l.forwardZ.value = -f.z
    l.upX.value = u.x
    l.upY.value = u.y
    l.upZ.value = -u.z
  }

  listenerPosition (): AudioVec {
    const l = this.context.listener
    return [l.positionX.value, l.positionY.value, l.positionZ.value]
  }

  /** Who is speaking now, by user id; `self` stands for the own microphone. */
  speaking (self: string): Set<string> {
    const loud = new Set<string>()
    if (this.#local && this.#rms(this.#local) > SPEAKING_RMS) loud.add(self)
    for (const [userId, voice] of this.#voices) if (this.#rms(voice.analyser) > SPEAKING_RMS) loud.add(userId)
    return loud
  }

  close (): void {
    for (const userId of [...this.#voices.keys()]) this.remove(userId)
    this.setLocal(null)
  }

  #rms (analyser: AnalyserNode): number {
    analyser.getFloatTimeDomainData(this.#buffer)
    let sum = 0
    for (const v of this.#buffer) sum += v * v
    return Math.sqrt(sum / this.#buffer.length)
  }
}
