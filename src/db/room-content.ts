import { randomUUID } from 'node:crypto'
import type { EntityMap } from '../shared/world.ts'

/** Returns a float in [0, 1); injectable so tests can make worlds deterministic. */
export type Random = () => number

const between = (random: Random, min: number, max: number): number => min + random() * (max - min)
const round = (n: number): number => Math.round(n * 1000) / 1000

function hslToRgb (h: number, s: number, l: number): [number, number, number] {
  const k = (n: number): number => (n + h * 12) % 12
  const a = s * Math.min(l, 1 - l)
  const f = (n: number): number => l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1))
  return [round(f(0)), round(f(8)), round(f(4))]
}

/**
 * The world a new room starts with: a grid ground, 5..20 boxes in shades of one random
 * color, one spawn point, and 10 small holdable boxes near the origin.
 */
export function randomRoomContent (random: Random = Math.random, newId: () => string = randomUUID): EntityMap {
  const world: EntityMap = {}
  world[newId()] = {
    mesh_builder: ['ground', { width: 100, height: 100, subdivisions: 2 }],
    position: [0, 0, 0],
    material: 'grid',
    teleportable: true
  }

  const baseHue = random()
  const boxCount = 5 + Math.floor(random() * 16)
  for (let i = 0; i < boxCount; i++) {
    const hue = (baseHue + between(random, -0.08, 0.08) + 1) % 1
    world[newId()] = {
      mesh_builder: ['box', { size: round(between(random, 1, 10)) }],
      position: [round(between(random, -25, 25)), round(between(random, -2, 2)), round(between(random, -25, 25))],
      color: hslToRgb(hue, between(random, 0.4, 0.8), between(random, 0.35, 0.65)),
      teleportable: true
    }
  }

  world[newId()] = {
    spawn_point: true,
    position: [round(between(random, -10, 10)), 0.1, round(between(random, -10, 10))]
  }

  for (let i = 0; i < 10; i++) {
    world[newId()] = {
      mesh_builder: ['box', { size: 0.5 }],
      position: [round(between(random, -3, 3)), 0.25, round(between(random, -3, 3))],
      color: hslToRgb(random(), 0.7, 0.5),
      holdable: true
    }
  }
  return world
}
