/** The OAuth signing keys (not tenant data: one set for the service), with the lock that serialises their creation. */
import type { JWK } from 'jose'
import type { Db, Queryable } from '../db.js'
import type { StoredSigningKey } from '../../domain/oauth/keys.js'

/** The advisory lock (PostgreSQL's, and PGlite's) held while a process decides whether to create the first key. */
const ROTATION_LOCK = 7_351_942_002

const isDb = (q: Queryable): q is Db => 'transaction' in q

export class SigningKeyRepository {
  constructor(private readonly q: Queryable) {}

  /**
   * Runs `fn` holding the rotation lock, with keys bound to the locked transaction: the
   * caller's transaction when this repository is bound to one, else a transaction of its
   * own. Processes starting together thus create one first key, not one each.
   */
  async withRotationLock<T>(fn: (keys: SigningKeyRepository) => Promise<T>): Promise<T> {
    const locked = async (tx: Queryable) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [ROTATION_LOCK])
      return fn(new SigningKeyRepository(tx))
    }
    return isDb(this.q) ? this.q.transaction(locked) : locked(this.q)
  }

  /** Whether some key is not retired (one signs). */
  async anyUnretired(): Promise<boolean> {
    const rows = await this.q.query('SELECT kid FROM signing_keys WHERE retired_at IS NULL LIMIT 1')
    return rows.length > 0
  }

  async insert(key: StoredSigningKey): Promise<void> {
    await this.q.run('INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_encrypted, created_at) VALUES ($1, $2, $3, $4, $5)', [
      key.kid,
      key.alg,
      JSON.stringify(key.publicJwk),
      key.privateJwkSealed,
      key.createdAt,
    ])
  }

  /** The `limit` newest unretired keys, newest first. */
  async newestUnretired(limit: number): Promise<StoredSigningKey[]> {
    const rows = await this.q.query<{ kid: string; alg: string; public_jwk: JWK | string; private_jwk_encrypted: string; created_at: Date }>(
      'SELECT kid, alg, public_jwk, private_jwk_encrypted, created_at FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid DESC LIMIT $1',
      [limit],
    )
    return rows.map((r) => ({
      kid: r.kid,
      alg: r.alg,
      // jsonb arrives parsed from `pg` and PGlite alike; text is parsed all the same.
      publicJwk: typeof r.public_jwk === 'string' ? (JSON.parse(r.public_jwk) as JWK) : r.public_jwk,
      privateJwkSealed: r.private_jwk_encrypted,
      createdAt: new Date(r.created_at),
    }))
  }
}
