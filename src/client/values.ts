import { HANDS, type Hand } from '../shared/world.ts'

/**
 * Readers for component values. Components come from the server, which
 * relays what clients send: every reader validates and returns null (or a
 * safe default) for anything malformed instead of throwing.
 */

export type Vec3 = [number, number, number]
export type Quat = [number, number, number, number]
export type Rgb = [number, number, number]

function finite (n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n)
}

function positive (n: unknown): number | undefined {
  return finite(n) && n > 0 ? n : undefined
}

export function readVec3 (value: unknown): Vec3 | null {
  if (!Array.isArray(value) || value.length !== 3 || !value.every(finite)) return null
  return [value[0], value[1], value[2]]
}

/** A quaternion [x, y, z, w], normalised; null if malformed or zero. */
export function readQuat (value: unknown): Quat | null {
  if (!Array.isArray(value) || value.length !== 4 || !value.every(finite)) return null
  const len = Math.hypot(value[0], value[1], value[2], value[3])
  if (len === 0) return null
  return [value[0] / len, value[1] / len, value[2] / len, value[3] / len]
}

const clamp01 = (n: number): number => Math.min(1, Math.max(0, n))

/** `[r, g, b]` in 0..1, or `"#rrggbb"` / `"#rgb"`. */
export function readColor (value: unknown): Rgb | null {
  if (Array.isArray(value)) {
    if (value.length < 3 || !value.slice(0, 3).every(finite)) return null
    return [clamp01(value[0]), clamp01(value[1]), clamp01(value[2])]
  }
  if (typeof value !== 'string') return null
  let hex = value.trim()
  const short = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/i.exec(hex)
  if (short) hex = `#${short[1]}${short[1]}${short[2]}${short[2]}${short[3]}${short[3]}`
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex)
  if (!m) return null
  return [parseInt(m[1], 16) / 255, parseInt(m[2], 16) / 255, parseInt(m[3], 16) / 255]
}

/** What `mesh_builder` asks for, with sizes validated and defaults filled in. */
export type MeshSpec =
  | { kind: 'box', width: number, height: number, depth: number }
  | { kind: 'ground', width: number, height: number, subdivisions: number }
  | { kind: 'sphere', diameter: number }

/** Largest size accepted for any mesh dimension, in metres. */
export const MAX_MESH_SIZE = 1000

function size (n: unknown, fallback: number): number {
  const v = positive(n)
  return v === undefined ? fallback : Math.min(v, MAX_MESH_SIZE)
}

export function readMeshBuilder (value: unknown): MeshSpec | null {
  if (!Array.isArray(value) || typeof value[0] !== 'string') return null
  const opts = typeof value[1] === 'object' && value[1] !== null ? value[1] as Record<string, unknown> : {}
  switch (value[0]) {
    case 'box': {
      const s = size(opts.size, 1)
      return { kind: 'box', width: size(opts.width, s), height: size(opts.height, s), depth: size(opts.depth, s) }
    }
    case 'ground': {
      const sub = finite(opts.subdivisions) ? Math.round(opts.subdivisions) : 1
      return { kind: 'ground', width: size(opts.width, 1), height: size(opts.height, 1), subdivisions: Math.min(64, Math.max(1, sub)) }
    }
    case 'sphere':
      return { kind: 'sphere', diameter: size(opts.diameter, 1) }
    default:
      return null
  }
}

/** `parent: "<user_id>:<hand>"`. The user id may itself contain ':' — the hand is after the last one. */
export function readParent (value: unknown): { userId: string, hand: Hand } | null {
  if (typeof value !== 'string') return null
  const at = value.lastIndexOf(':')
  if (at <= 0) return null
  const hand = value.slice(at + 1)
  if (!(HANDS as readonly string[]).includes(hand)) return null
  return { userId: value.slice(0, at), hand: hand as Hand }
}

export function parentValue (userId: string, hand: Hand): string {
  return `${userId}:${hand}`
}

/** A stable, pleasant colour for a user id (avatars), from a string hash. */
export function colorForId (id: string): Rgb {
  let h = 2166136261
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i)
    h = Math.imul(h, 16777619)
  }
  const hue = ((h >>> 0) % 360) / 360
  return hslToRgb(hue, 0.55, 0.55)
}

/** HSL (all 0..1) to RGB. */
export function hslToRgb (h: number, s: number, l: number): Rgb {
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s
  const p = 2 * l - q
  const channel = (t: number): number => {
    if (t < 0) t += 1
    if (t > 1) t -= 1
    if (t < 1 / 6) return p + (q - p) * 6 * t
    if (t < 1 / 2) return q
    if (t < 2 / 3) return p + (q - p) * (2 / 3 - t) * 6
    return p
  }
  return [channel(h + 1 / 3), channel(h), channel(h - 1 / 3)]
}
