/** All randomness comes from here, so there is one place to reason about it. */
import { randomBytes, randomFillSync, randomUUID } from 'node:crypto'

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz' // Crockford base32, lower case

/**
 * Identifiers and tokens are taken from a block of the CSPRNG's output, refilled when used
 * up, as Node's own crypto.randomUUID does: one call into OpenSSL per 4 KiB instead of one
 * per identifier (a request makes several, and each call showed in profiles of the hot
 * paths). Every byte is handed out once and wiped from the block as it is taken.
 */
const BLOCK_SIZE = 4096
const block = Buffer.alloc(BLOCK_SIZE)
let offset = BLOCK_SIZE

/** Makes sure the block holds `n` unused bytes and returns where they start; the caller reads them, then `wipe`s them. */
function reserve(n: number): number {
  if (offset + n > BLOCK_SIZE) {
    randomFillSync(block)
    offset = 0
  }
  const at = offset
  offset += n
  return at
}
const wipe = (at: number, n: number) => void block.fill(0, at, at + n)

/** `n` random characters of Crockford base32 (5 bits each). */
export function randomBase32(n: number): string {
  if (n > 256) return Array.from(randomBytes(n), (b) => ALPHABET[b & 31]).join('')
  const at = reserve(n)
  let out = ''
  for (let i = 0; i < n; i++) out += ALPHABET[block[at + i]! & 31]
  wipe(at, n)
  return out
}

/** A time in milliseconds (0 to 2^50) as 10 characters of the same alphabet, most significant first: later times sort after. */
export function timeBase32(ms: number): string {
  let out = ''
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32]! + out
    ms = Math.floor(ms / 32)
  }
  return out
}

/** `n` random bytes as base64url. */
export function randomToken(n = 32): string {
  if (n > 256) return randomBytes(n).toString('base64url')
  const at = reserve(n)
  const out = block.toString('base64url', at, at + n)
  wipe(at, n)
  return out
}

/** A random (version 4) UUID's 32 hex digits, without the dashes. */
export const randomUuidHex = () => randomUUID().replaceAll('-', '')

export { randomBytes }
