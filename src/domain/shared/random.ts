/** All randomness comes from here, so there is one place to reason about it. */
import { randomBytes } from 'node:crypto'

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz' // Crockford base32, lower case

/** `n` random characters of Crockford base32 (5 bits each). */
export function randomBase32(n: number): string {
  const bytes = randomBytes(n)
  let out = ''
  for (let i = 0; i < n; i++) out += ALPHABET[bytes[i]! & 31]
  return out
}

/** `n` random bytes as base64url. */
export const randomToken = (n = 32): string => randomBytes(n).toString('base64url')

export { randomBytes }
