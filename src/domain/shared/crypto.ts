/**
 * The few cryptographic primitives paylink uses, in one place:
 * SHA-256 for high-entropy tokens (link tokens, page-session secrets), scrypt for client
 * secrets (slow on purpose), AES-256-GCM for data kept encrypted at rest, and a
 * timing-safe comparison.
 */
import { createCipheriv, createDecipheriv, createHmac, hash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

/** SHA-256 in one call (no Hash object: this runs on every mint and page request). */
export const sha256 = (value: string | Buffer): Buffer => hash('sha256', value, 'buffer')

export const hmacSha256 = (key: Buffer, value: string | Buffer): Buffer => createHmac('sha256', key).update(value).digest()

/** Compares two strings or buffers in time that does not depend on where they differ. */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const x = Buffer.isBuffer(a) ? a : Buffer.from(a)
  const y = Buffer.isBuffer(b) ? b : Buffer.from(b)
  if (x.length !== y.length) {
    timingSafeEqual(x, x)
    return false
  }
  return timingSafeEqual(x, y)
}

// scrypt N=2^15, r=8, p=1: about 50 ms and 32 MiB per hash, run off the event loop.
const SCRYPT = { N: 32768, r: 8, p: 1, keylen: 32, maxmem: 64 * 1024 * 1024 }

const scryptAsync = (secret: string, salt: Buffer, opts: typeof SCRYPT) =>
  new Promise<Buffer>((resolve, reject) =>
    scrypt(secret, salt, opts.keylen, { N: opts.N, r: opts.r, p: opts.p, maxmem: opts.maxmem }, (err, key) => (err ? reject(err) : resolve(key))),
  )

/** A slow, salted hash of a secret: `scrypt$N$r$p$salt$hash`. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scryptAsync(secret, salt, SCRYPT)
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64url')
  const key = await scryptAsync(secret, Buffer.from(salt, 'base64url'), { ...SCRYPT, N: Number(n), r: Number(r), p: Number(p), keylen: expected.length })
  return safeEqual(key, expected)
}

/**
 * AES-256-GCM under a 32-byte key: `v1.<iv>.<tag>.<ciphertext>` in base64url.
 * `context` is bound as additional data, so a value moved to another row does not decrypt.
 *
 * Rotation (DATA_ENCRYPTION_KEY_PREVIOUS): values are sealed under the current key and
 * opened under the current key or, failing that, the previous one; `reseal` moves one value
 * from the previous key to the current (what `paylink reencrypt` does to every sealed value),
 * after which the previous key can be dropped.
 */
export class Sealer {
  constructor(
    private readonly key: Buffer,
    private readonly previous?: Buffer,
  ) {
    if (key.length !== 32 || (previous && previous.length !== 32)) throw new Error('The data encryption key must be 32 bytes.')
  }
  seal(plaintext: string | Buffer, context = ''): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv)
    cipher.setAAD(Buffer.from(context))
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.')
  }
  open(sealed: string, context = ''): Buffer {
    try {
      return this.openWith(this.key, sealed, context)
    } catch (err) {
      if (!this.previous) throw err
      return this.openWith(this.previous, sealed, context)
    }
  }

  /**
   * The value sealed under the current key, when it is under the previous one; undefined when
   * it is under the current key already. Throws when neither key opens it.
   */
  reseal(sealed: string, context = ''): string | undefined {
    try {
      this.openWith(this.key, sealed, context)
      return undefined
    } catch {
      if (!this.previous) throw new Error('The value does not open with the current key, and there is no previous key.')
      return this.seal(this.openWith(this.previous, sealed, context), context)
    }
  }

  private openWith(key: Buffer, sealed: string, context: string): Buffer {
    const [v, iv, tag, body] = sealed.split('.')
    if (v !== 'v1' || !iv || !tag || body === undefined) throw new Error('Not a sealed value.')
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
    decipher.setAAD(Buffer.from(context))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()])
  }
}
