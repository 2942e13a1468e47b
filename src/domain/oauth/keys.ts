/**
 * The keys that sign access tokens: ES256, kept in the database so they survive restarts
 * and are shared by every API process, the private half sealed with DATA_ENCRYPTION_KEY.
 *
 * The newest unretired key signs and the one before it still verifies (the JWKS shows
 * both). A process that sees a token with a kid it does not know reloads the keys once,
 * so a key made by a sibling process is picked up without a restart. Every process also
 * re-reads the keys once KEY_REFRESH_MS (clock time) has passed since its last read —
 * before it signs, when it serves the JWKS, and in the background while it verifies — so
 * that after a rotation made elsewhere (`paylink keys rotate`, another process) it signs
 * with the new key within a minute, and stops accepting a key two rotations old.
 */
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose'
import type { Store } from '../../storage/store.js'
import type { Clock } from '../shared/clock.js'
import type { Sealer } from '../shared/crypto.js'

/** What a signing key's private half is sealed to. */
export const signingKeyContext = (kid: string) => `signing_key:${kid}`
import { newId } from '../shared/ids.js'

export const SIGNING_ALG = 'ES256'

/** How old (clock time) a process's copy of the keys may get before it reads them again. */
export const KEY_REFRESH_MS = 60_000

/** A key as it is stored: the private half sealed with DATA_ENCRYPTION_KEY. */
export interface StoredSigningKey {
  kid: string
  alg: string
  publicJwk: JWK
  privateJwkSealed: string
  createdAt: Date
}

interface LoadedKey {
  kid: string
  publicJwk: JWK
  publicKey: CryptoKey
  privateKey?: CryptoKey
  createdAt: Date
}

export class SigningKeys {
  private keys: LoadedKey[] = []
  private lastReload = 0
  /** Clock time of the last read (successful or not) of the keys. */
  private readAt = 0
  private refreshing: Promise<void> | undefined

  constructor(
    private readonly store: Store,
    private readonly sealer: Sealer,
    private readonly clock: Clock,
  ) {}

  /** Loads the keys, creating the first one if there is none (under the rotation lock: processes starting together make one). */
  async init(): Promise<void> {
    await this.store.signingKeys.withRotationLock(async (keys) => {
      if (!(await keys.anyUnretired())) await keys.insert(await this.newKey())
    })
    await this.reload()
  }

  /** Makes a new signing key; the old ones keep verifying until retired. */
  async rotate(): Promise<string> {
    const key = await this.newKey()
    await this.store.signingKeys.insert(key)
    await this.reload()
    return key.kid
  }

  private async newKey(): Promise<StoredSigningKey> {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true })
    const kid = newId('key')
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' }
    const privateJwk = await exportJWK(privateKey)
    return { kid, alg: SIGNING_ALG, publicJwk, privateJwkSealed: this.sealer.seal(JSON.stringify(privateJwk), signingKeyContext(kid)), createdAt: this.clock.now() }
  }

  async reload(): Promise<void> {
    // The newest signs; the one before it still verifies.
    const newest = await this.store.signingKeys.newestUnretired(2)
    const keys: LoadedKey[] = []
    for (const [i, stored] of newest.entries()) {
      // A kid's key never changes: a key loaded before is kept as it is (the same objects, so
      // tokens verified with it stay remembered), unless it now signs and lacks its private half.
      const prior = this.keys.find((k) => k.kid === stored.kid)
      if (prior && (i > 0 || prior.privateKey)) {
        keys.push(prior)
        continue
      }
      const key: LoadedKey = {
        kid: stored.kid,
        publicJwk: stored.publicJwk,
        publicKey: prior?.publicKey ?? ((await importJWK(stored.publicJwk, SIGNING_ALG)) as CryptoKey),
        createdAt: stored.createdAt,
      }
      if (i === 0) {
        let opened: Buffer
        try {
          opened = this.sealer.open(stored.privateJwkSealed, signingKeyContext(stored.kid))
        } catch {
          throw new Error('DATA_ENCRYPTION_KEY cannot open the signing keys stored in this database: it is not the key the database was set up with.')
        }
        const jwk = JSON.parse(opened.toString('utf8')) as JWK
        key.privateKey = (await importJWK(jwk, SIGNING_ALG)) as CryptoKey
      }
      keys.push(key)
    }
    this.keys = keys
    this.lastReload = Date.now()
    this.readAt = this.clock.now().getTime()
  }

  /**
   * Re-reads the keys when the last read is KEY_REFRESH_MS old (one read at a time). A
   * failed read keeps the keys as they are and is tried again an interval later.
   */
  refreshIfStale(): Promise<void> {
    const now = this.clock.now().getTime()
    if (now - this.readAt < KEY_REFRESH_MS) return Promise.resolve()
    this.refreshing ??= this.reload()
      .catch(() => {
        this.readAt = now
      })
      .finally(() => {
        this.refreshing = undefined
      })
    return this.refreshing
  }

  /** The key that signs new tokens. */
  current(): { kid: string; privateKey: CryptoKey } {
    const k = this.keys[0]
    if (!k?.privateKey) throw new Error('Signing keys are not loaded.')
    return { kid: k.kid, privateKey: k.privateKey }
  }

  /** The public key for `kid` among the keys loaded now; no reload. */
  loadedPublicKey(kid: string): CryptoKey | undefined {
    return this.keys.find((k) => k.kid === kid)?.publicKey
  }

  /** The public key for `kid`, reloading at most once a second when it is unknown. */
  async publicKey(kid: string | undefined): Promise<CryptoKey | undefined> {
    const find = () => this.keys.find((k) => k.kid === kid)?.publicKey
    if (!kid) return undefined
    const found = find()
    if (found || Date.now() - this.lastReload < 1000) return found
    await this.reload()
    return find()
  }

  /** The current and previous public keys, for /.well-known/jwks.json. */
  publicJwks(): JWK[] {
    return this.keys.slice(0, 2).map((k) => k.publicJwk)
  }
}
