import { Vector3 } from '@babylonjs/core/Maths/math.vector.js'
import type { Channel } from 'phoenix'
import type { EntityStore } from '../entity-store.ts'
import type { PageContext } from '../page.ts'
import type { Person } from '../presence.ts'
import type { RoomScene } from '../scene/room-scene.ts'
import { VoiceIndicators } from '../scene/voice-indicators.ts'
import { bindVoiceControls, renderSpeaking, renderVoice } from '../ui/voice.ts'
import type { AudioVec } from './spatial-audio.ts'
import { VoiceChat } from './voice-chat.ts'

/**
 * A read-only view of voice for browser tests (`window.__xrVoice`); not an API. Audio
 * positions are in Web Audio's space: the scene's with z negated.
 */
export interface VoiceDebugHook {
  status: () => string
  muted: () => boolean
  /** One entry per open peer connection. */
  peers: () => Array<{ userId: string, session: string, connectionState: string }>
  /** Summed inbound-rtp audio stats of the connection to `userId`, or null without one. */
  inbound: (userId: string) => Promise<{ bytesReceived: number, totalAudioEnergy: number } | null>
  pannerPosition: (userId: string) => AudioVec | null
  listenerPosition: () => AudioVec | null
  speaking: () => string[]
}

declare global {
  interface Window {
    __xrVoice?: VoiceDebugHook
  }
}

export interface VoiceSetup {
  page: PageContext
  channel: Channel
  store: EntityStore
  room: RoomScene | null
  selfId: () => string | null
}

const FORWARD = new Vector3(0, 0, 1)
const UP = new Vector3(0, 1, 0)

/** What the room page tells voice. */
export interface RoomVoice {
  /** Presence changed (after the people list was rendered). */
  people: (people: Person[]) => void
  /** The room channel (re)joined. */
  rejoined: () => void
  /** These entities changed. */
  moved: (ids: Iterable<string>) => void
}

/** Voice chat on the room page: controls, people list marks, avatar marks, the listener at the camera. */
export function setupVoice ({ page, channel, store, room, selfId }: VoiceSetup): RoomVoice {
  const controls = { join: page.voiceJoin, mute: page.voiceMute, message: page.voiceMessage }
  const indicators = room ? new VoiceIndicators(room.scene, (id) => room.avatars.headNode(id)) : null
  let speaking = new Set<string>()
  let muted = new Set<string>()
  const voice = new VoiceChat({
    channel,
    selfId,
    getUserMedia: async () => await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } }),
    headOf: (userId) => {
      const head = store.get(userId)?.head
      return Array.isArray(head) && head.length >= 3 && head.slice(0, 3).every(Number.isFinite) ? [head[0], head[1], head[2]] as [number, number, number] : null
    },
    onView: (view) => renderVoice(controls, view),
    onSpeaking: (ids) => {
      speaking = ids
      renderSpeaking(page.people, ids)
      indicators?.show(speaking, muted)
    }
  })
  bindVoiceControls(controls, {
    join: () => { void voice.join() },
    leave: () => { void voice.leave() },
    toggleMute: () => { void voice.toggleMute() },
    status: () => voice.status
  })
  if (!navigator.mediaDevices?.getUserMedia || typeof RTCPeerConnection === 'undefined') {
    if (controls.join) controls.join.disabled = true
    renderVoice(controls, { status: 'off', muted: false, message: 'This browser cannot do voice chat (it needs WebRTC and a secure page: https or localhost).' })
  }
  room?.scene.onBeforeRenderObservable.add(() => {
    const camera = room.scene.activeCamera
    if (!camera) return
    voice.listen({ position: camera.globalPosition, forward: camera.getDirection(FORWARD), up: camera.getDirection(UP) })
  })

  window.__xrVoice = Object.freeze({
    status: () => voice.status,
    muted: () => voice.muted,
    peers: () => voice.peers().map((p) => ({ userId: p.userId, session: p.session, connectionState: p.pc.connectionState })),
    inbound: async (userId: string) => {
      const peer = voice.peers().find((p) => p.userId === userId)
      if (!peer) return null
      let bytesReceived = 0
      let totalAudioEnergy = 0
      ;(await peer.pc.getStats()).forEach((report: Record<string, unknown>) => {
        if (report.type !== 'inbound-rtp' || report.kind !== 'audio') return
        bytesReceived += Number(report.bytesReceived ?? 0)
        totalAudioEnergy += Number(report.totalAudioEnergy ?? 0)
      })
      return { bytesReceived, totalAudioEnergy }
    },
    pannerPosition: (userId: string) => voice.audio?.pannerPosition(userId) ?? null,
    listenerPosition: () => voice.audio?.listenerPosition() ?? null,
    speaking: () => [...speaking]
  })

  return {
    people: (people) => {
      muted = new Set(people.filter((p) => p.muted).map((p) => p.id))
      indicators?.show(speaking, muted)
      voice.people(people)
      renderSpeaking(page.people, speaking)
    },
    rejoined: () => voice.rejoined(),
    moved: (ids) => voice.moved(ids)
  }
}
