/**
 * The keys that sign access tokens: ES256, kept in the database so they survive restarts
 * and are shared by every API process, the private half sealed with DATA_ENCRYPTION_KEY.
 *
 * The newest unretired key signs; every key created in the last `ACCESS_TOKEN_TTL` after
 * its retirement still verifies (the JWKS shows current and previous). A process that
 * sees a token with a kid it does not know reloads the keys once, so a key made by a
 * sibling process is picked up without a restart. Every process also re-reads the keys
 * once KEY_REFRESH_MS (clock time) has passed since its last read — before it signs, when
 * it serves the JWKS, and in the background while it verifies — so that after a rotation
 * made elsewhere (`paylink keys rotate`, another process) it signs with the new key within
 * a minute, and stops accepting a key two rotations old.
 */
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose'
import type { Db } from '../../storage/db.js'
import type { Clock } from '../shared/clock.js'
import type { Sealer } from '../shared/crypto.js'
import { newId } from '../shared/ids.js'

export const SIGNING_ALG = 'ES256'

/** How old (clock time) a process's copy of the keys may get before it reads them again. */
export const KEY_REFRESH_MS = 60_000

interface LoadedKey {
  kid: string
  publicJwk: JWK
  publicKey: CryptoKey
  privateKey?: CryptoKey
  createdAt: Date
}

const KEY_LOCK = 7_351_942_002

export class SigningKeys {
  private keys: LoadedKey[] = []
  private lastReload = 0
  /** Clock time of the last read (successful or not) of the keys. */
  private readAt = 0
  private refreshing: Promise<void> | undefined

  constructor(
    private readonly db: Db,
    private readonly sealer: Sealer,
    private readonly clock: Clock,
  ) {}

  /** Loads the keys, creating the first one if there is none. */
  async init(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK])
      const [row] = await tx.query('SELECT kid FROM signing_keys WHERE retired_at IS NULL LIMIT 1')
      if (!row) await this.insertNew(tx)
    })
    await this.reload()
  }

  /** Makes a new signing key; the old ones keep verifying until retired. */
  async rotate(): Promise<string> {
    const kid = await this.insertNew(this.db)
    await this.reload()
    return kid
  }

  private async insertNew(q: Pick<Db, 'query'>): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true })
    const kid = newId('key')
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' }
    const privateJwk = await exportJWK(privateKey)
    await q.query(
      'INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_encrypted, created_at) VALUES ($1, $2, $3, $4, $5)',
      [kid, SIGNING_ALG, JSON.stringify(publicJwk), this.sealer.seal(JSON.stringify(privateJwk), `signing_key:${kid}`), this.clock.now()],
    )
    return kid
  }

  async reload(): Promise<void> {
    const rows = await this.db.query<{ kid: string; public_jwk: JWK; private_jwk_encrypted: string; created_at: Date }>(
      'SELECT kid, public_jwk, private_jwk_encrypted, created_at FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid DESC LIMIT 2',
    )
    const keys: LoadedKey[] = []
    for (const [i, row] of rows.entries()) {
      // A kid's key never changes: a key loaded before is kept as it is (the same objects, so
      // tokens verified with it stay remembered), unless it now signs and lacks its private half.
      const prior = this.keys.find((k) => k.kid === row.kid)
      if (prior && (i > 0 || prior.privateKey)) {
        keys.push(prior)
        continue
      }
      const publicJwk = typeof row.public_jwk === 'string' ? (JSON.parse(row.public_jwk) as JWK) : row.public_jwk
      const key: LoadedKey = {
        kid: row.kid,
        publicJwk,
        publicKey: prior?.publicKey ?? ((await importJWK(publicJwk, SIGNING_ALG)) as CryptoKey),
        createdAt: new Date(row.created_at),
      }
      if (i === 0) {
        let opened: Buffer
        try {
          opened = this.sealer.open(row.private_jwk_encrypted, `signing_key:${row.kid}`)
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
  jwks(): { keys: JWK[] } {
    return { keys: this.keys.slice(0, 2).map((k) => k.publicJwk) }
  }
}
