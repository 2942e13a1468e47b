/** All randomness comes from here, so there is one place to reason about it. */
import { randomBytes, randomFillSync } from 'node:crypto'

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

function take(n: number): Buffer {
  if (n > 256) return randomBytes(n)
  if (offset + n > BLOCK_SIZE) {
    randomFillSync(block)
    offset = 0
  }
  const out = Buffer.alloc(n)
  block.copy(out, 0, offset, offset + n)
  block.fill(0, offset, offset + n)
  offset += n
  return out
}

/** `n` random characters of Crockford base32 (5 bits each). */
export function randomBase32(n: number): string {
  const bytes = take(n)
  let out = ''
  for (let i = 0; i < n; i++) out += ALPHABET[bytes[i]! & 31]
  return out
}

/** `n` random bytes as base64url. */
export const randomToken = (n = 32): string => take(n).toString('base64url')

export { randomBytes }
