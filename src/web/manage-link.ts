import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * A room's manage link, `/rooms/<id>/manage/<token>`: the token is 256 random bits, shown once
 * to the owner; the database keeps only its SHA-256, so a leaked database opens no room.
 */
export interface ManageToken {
  token: string
  /** Hex SHA-256 of the token, for rooms.manage_token_hash. */
  hash: string
}

export const hashManageToken = (token: string): string => createHash('sha256').update(token).digest('hex')

export function newManageToken (): ManageToken {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: hashManageToken(token) }
}

/** Whether `token` is the one `storedHash` was made from; constant time in the token's content. */
export function manageTokenMatches (storedHash: string | null, token: string): boolean {
  if (storedHash === null) return false
  const expected = Buffer.from(storedHash, 'hex')
  const given = createHash('sha256').update(token).digest()
  return expected.length === given.length && timingSafeEqual(expected, given)
}

export const manageLinkPath = (roomId: string, token: string): string =>
  `/rooms/${encodeURIComponent(roomId)}/manage/${token}`
