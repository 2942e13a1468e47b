/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4) issuing RFC 9068 JWT access tokens.
 *
 * Tokens are ES256 JWTs with `typ: at+jwt` and the claims `iss aud sub client_id
 * tenant_id scope iat exp jti`. Verification pins the algorithm, issuer, audience and
 * type, so `alg: none`, an HS256 token "signed" with the public key, a token for another
 * audience and an expired one are all refused. Revoking a client refuses its tokens at
 * once in the process that revoked it and within one second in every other: a client
 * found active is trusted for one second before its row is read again (a primary-key
 * read), which spares the hot paths a round trip on nearly every call.
 *
 * A client sends the same token on every call until it expires, so the result of the
 * signature and fixed-claim checks is kept per exact token text (bounded): checking the
 * same bytes against the same key can only give the same answer again. What changes with
 * time is checked on every use all the same: `exp` and `nbf` against the clock, the key
 * still being one that verifies (a reload or rotation makes new key objects, so old
 * entries miss), and the client's standing (revocation, as above).
 */
import { SignJWT, jwtVerify, decodeProtectedHeader, errors as joseErrors, type CryptoKey } from 'jose'
import type { Db } from '../../storage/db.js'
import { sql } from '../../storage/db.js'
import type { Clock } from '../shared/clock.js'
import { hashSecret, verifySecret } from '../shared/crypto.js'
import { newId, type ClientId, type TenantId } from '../shared/ids.js'
import { randomToken } from '../shared/random.js'
import { SIGNING_ALG, type SigningKeys } from './keys.js'
import { ADMIN_SCOPE, type Scope } from './scopes.js'

/** Who is calling, as proven by a verified access token. */
export interface Principal {
  readonly clientId: ClientId
  readonly tenantId: TenantId | null
  /** The token's scopes. The principal of a token is shared by all its requests: never change it. */
  readonly scopes: ReadonlySet<string>
}

/** An RFC 6749 §5.2 error. */
export class OAuthError extends Error {
  constructor(
    readonly error: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope',
    readonly description: string,
    readonly status = 400,
  ) {
    super(description)
  }
}

export interface IssuedToken {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  scope: string
}

const FIND_CLIENT = sql('oauth_client_by_id', 'SELECT id, tenant_id, secret_hash, scopes, revoked_at FROM oauth_clients WHERE id = $1')
const CLIENT_ACTIVE = sql('oauth_client_active', 'SELECT tenant_id FROM oauth_clients WHERE id = $1 AND revoked_at IS NULL')

export interface TokenServiceOptions {
  issuer: string
  audience: string
  ttlSeconds: number
}

/** A token that passed the signature and fixed-claim checks: what must be re-checked on each use, and who it proves. */
interface VerifiedToken {
  kid: string
  key: CryptoKey
  exp: unknown
  nbf: unknown
  principal: Principal
}

/** How many verified tokens are remembered; the oldest is forgotten first. */
const VERIFIED_CACHE_SIZE = 10_000

/** How long a client found active is trusted before its row is read again (real time). */
const ACTIVE_CLIENT_MS = 1000
const ACTIVE_CLIENT_CACHE_SIZE = 10_000

export class TokenService {
  private readonly verified = new Map<string, VerifiedToken>()
  private readonly activeClients = new Map<string, { tenantId: string | null; until: number }>()

  constructor(
    private readonly db: Db,
    private readonly keys: SigningKeys,
    private readonly clock: Clock,
    readonly options: TokenServiceOptions,
  ) {}

  /** Creates a client and returns its secret, which is never stored or shown again. */
  async createClient(q: Pick<Db, 'query'>, tenantId: TenantId | null, scopes: readonly Scope[]): Promise<{ clientId: ClientId; clientSecret: string }> {
    const clientId = newId('client')
    const clientSecret = `pls_${randomToken(32)}`
    await q.query('INSERT INTO oauth_clients (id, tenant_id, secret_hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5)', [
      clientId,
      tenantId,
      await hashSecret(clientSecret),
      [...scopes],
      this.clock.now(),
    ])
    return { clientId, clientSecret }
  }

  async revokeClient(clientId: string): Promise<boolean> {
    this.activeClients.delete(clientId)
    const rows = await this.db.query('UPDATE oauth_clients SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id', [clientId, this.clock.now()])
    this.activeClients.delete(clientId)
    return rows.length > 0
  }

  /** The tenant of an active (unrevoked) client, or undefined; remembered for ACTIVE_CLIENT_MS. */
  private async activeClient(clientId: string): Promise<{ tenantId: string | null } | undefined> {
    const now = performance.now()
    const hit = this.activeClients.get(clientId)
    if (hit && hit.until > now) return hit
    const [row] = await this.db.query<{ tenant_id: string | null }>(CLIENT_ACTIVE, [clientId])
    if (!row) {
      this.activeClients.delete(clientId)
      return undefined
    }
    if (this.activeClients.size >= ACTIVE_CLIENT_CACHE_SIZE) this.activeClients.delete(this.activeClients.keys().next().value!)
    const entry = { tenantId: row.tenant_id ?? null, until: now + ACTIVE_CLIENT_MS }
    this.activeClients.set(clientId, entry)
    return entry
  }

  /** The client credentials grant: checks the secret, narrows the scope, signs a token. */
  async issue(clientId: string, clientSecret: string, requestedScope: string | undefined): Promise<IssuedToken> {
    const [client] = await this.db.query<{ id: string; tenant_id: string | null; secret_hash: string; scopes: string[]; revoked_at: Date | null }>(FIND_CLIENT, [clientId])
    // Verify against a dummy hash when the client is unknown, so timing does not tell.
    const ok = await verifySecret(clientSecret, client?.secret_hash ?? DUMMY_HASH)
    if (!client || !ok || client.revoked_at) throw new OAuthError('invalid_client', 'Client authentication failed.', 401)
    let scopes = client.scopes
    if (requestedScope !== undefined) {
      const asked = requestedScope.split(' ').filter(Boolean)
      const extra = asked.filter((s) => !client.scopes.includes(s))
      if (asked.length === 0 || extra.length) throw new OAuthError('invalid_scope', `The client may not have: ${extra.join(' ') || '(empty scope)'}.`)
      scopes = [...new Set(asked)]
    }
    await this.keys.refreshIfStale()
    const now = Math.floor(this.clock.now().getTime() / 1000)
    const { kid, privateKey } = this.keys.current()
    const claims: Record<string, unknown> = { client_id: client.id, scope: scopes.join(' ') }
    if (client.tenant_id) claims.tenant_id = client.tenant_id
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: SIGNING_ALG, typ: 'at+jwt', kid })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setSubject(client.id)
      .setIssuedAt(now)
      .setExpirationTime(now + this.options.ttlSeconds)
      .setJti(randomToken(16))
      .sign(privateKey)
    return { access_token: token, token_type: 'Bearer', expires_in: this.options.ttlSeconds, scope: scopes.join(' ') }
  }

  /** Verifies a bearer token; undefined when it is not one we accept. */
  async verify(token: string): Promise<Principal | undefined> {
    // In the background: verification never waits for it (refreshIfStale does not throw).
    void this.keys.refreshIfStale()
    try {
      const entry = this.cached(token) ?? (await this.verifySignedToken(token))
      if (!entry) return undefined
      const client = await this.activeClient(entry.principal.clientId)
      if (!client || client.tenantId !== entry.principal.tenantId) return undefined
      return entry.principal
    } catch (err) {
      if (err instanceof joseErrors.JOSEError || err instanceof TypeError || err instanceof SyntaxError) return undefined
      throw err
    }
  }

  /**
   * The full check: signature (pinned algorithm), issuer, audience, type, required claims,
   * their shapes and times. Remembers a success with the principal it proves.
   */
  private async verifySignedToken(token: string): Promise<VerifiedToken | undefined> {
    const { kid } = decodeProtectedHeader(token)
    if (!kid) return undefined
    const key = await this.keys.publicKey(kid)
    if (!key) return undefined
    const { payload } = await jwtVerify(token, key, {
      algorithms: [SIGNING_ALG],
      issuer: this.options.issuer,
      audience: this.options.audience,
      typ: 'at+jwt',
      currentDate: this.clock.now(),
      requiredClaims: ['exp', 'iat', 'sub', 'client_id', 'jti', 'scope'],
    })
    if (typeof payload.client_id !== 'string' || payload.sub !== payload.client_id || typeof payload.scope !== 'string') return undefined
    if (payload.tenant_id !== undefined && typeof payload.tenant_id !== 'string') return undefined
    const principal: Principal = Object.freeze({
      clientId: payload.client_id as ClientId,
      tenantId: (payload.tenant_id as TenantId | undefined) ?? null,
      scopes: new Set(payload.scope.split(' ')),
    })
    const entry = { kid, key, exp: payload.exp, nbf: payload.nbf, principal }
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!)
    this.verified.set(token, entry)
    return entry
  }

  /**
   * A token that passed `verifySignedToken` before, if it still holds now: not expired, not
   * before its `nbf` (jose's rules, no tolerance), and its key still the loaded one for its
   * `kid`. Undefined sends the token through the full check again.
   */
  private cached(token: string): VerifiedToken | undefined {
    const hit = this.verified.get(token)
    if (!hit) return undefined
    const now = Math.floor(this.clock.now().getTime() / 1000)
    const { exp, nbf } = hit
    if (typeof exp !== 'number' || exp <= now || (nbf !== undefined && (typeof nbf !== 'number' || nbf > now)) || this.keys.loadedPublicKey(hit.kid) !== hit.key) {
      this.verified.delete(token)
      return undefined
    }
    return hit
  }
}

export const isAdmin = (p: Principal) => p.tenantId === null && p.scopes.has(ADMIN_SCOPE)

// A real scrypt hash of a random string: verifying against it costs what a real check costs.
const DUMMY_HASH = await hashSecret(randomToken(16))
