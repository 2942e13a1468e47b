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
import type { Repositories, Store } from '../../storage/store.js'
import type { Clock } from '../shared/clock.js'
import { hashSecret, verifySecret } from '../shared/crypto.js'
import { newId, type ClientId, type TenantId } from '../shared/ids.js'
import { randomToken } from '../shared/random.js'
import { SIGNING_ALG, type SigningKeys } from './keys.js'
import { ADMIN_SCOPE, type Scope } from './scopes.js'

/** Who is calling, as proven by a verified access token (or a tenant portal session, src/domain/portal). */
export interface Principal {
  /** The OAuth client; null only for a portal session the operator made (`paylink portal link`). */
  readonly clientId: ClientId | null
  readonly tenantId: TenantId | null
  /** The token's scopes. The principal of a token is shared by all its requests: never change it. */
  readonly scopes: ReadonlySet<string>
  /** Set when the caller is a tenant portal session (`Authorization: Bearer pps_…`): its id, never its secret. */
  readonly portalSessionId?: string
}

/** An RFC 6749 §5.2 error; the token endpoint answers it in OAuth's own form. */
export class OAuthError extends Error {
  constructor(
    readonly error: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope',
    readonly description: string,
  ) {
    super(description)
  }
}

/** An OAuth client as stored: only the hash of its secret is kept. */
export interface OAuthClient {
  id: ClientId
  /** Null for an operator client. */
  tenantId: TenantId | null
  secretHash: string
  scopes: string[]
  revokedAt: Date | null
}

/** A signed access token and what it grants. */
export interface IssuedToken {
  accessToken: string
  /** Seconds. */
  expiresIn: number
  scopes: string[]
}

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
  private readonly activeClients = new Map<ClientId, { tenantId: TenantId | null; until: number }>()

  constructor(
    private readonly store: Store,
    private readonly keys: SigningKeys,
    private readonly clock: Clock,
    readonly options: TokenServiceOptions,
  ) {}

  /**
   * Creates a client and returns its secret, which is never stored or shown again. Runs in
   * `tx`, so a tenant and its first client are made together.
   */
  async createClient(tx: Repositories, tenantId: TenantId | null, scopes: readonly Scope[]): Promise<{ clientId: ClientId; clientSecret: string }> {
    const clientId = newId('client')
    const clientSecret = `pls_${randomToken(32)}`
    await tx.tenants.insertClient({ id: clientId, tenantId, secretHash: await hashSecret(clientSecret), scopes, createdAt: this.clock.now() })
    return { clientId, clientSecret }
  }

  async revokeClient(clientId: ClientId): Promise<boolean> {
    this.activeClients.delete(clientId)
    const revoked = await this.store.tenants.revokeClientAcrossTenants(clientId, this.clock.now())
    this.activeClients.delete(clientId)
    return revoked
  }

  /**
   * Whether `clientId` is an unrevoked client of `tenantId`, by the same rule as its tokens
   * (at once in this process after a revocation, within ACTIVE_CLIENT_MS in the others).
   * The portal's sessions are checked with it.
   */
  async clientActive(clientId: ClientId, tenantId: TenantId): Promise<boolean> {
    const client = await this.activeClient(clientId)
    return client?.tenantId === tenantId
  }

  /** The tenant of an active (unrevoked) client, or undefined; remembered for ACTIVE_CLIENT_MS. */
  private async activeClient(clientId: ClientId): Promise<{ tenantId: TenantId | null } | undefined> {
    const now = performance.now()
    const hit = this.activeClients.get(clientId)
    if (hit && hit.until > now) return hit
    const client = await this.store.tenants.findActiveClientAcrossTenants(clientId)
    if (!client) {
      this.activeClients.delete(clientId)
      return undefined
    }
    if (this.activeClients.size >= ACTIVE_CLIENT_CACHE_SIZE) this.activeClients.delete(this.activeClients.keys().next().value!)
    const entry = { tenantId: client.tenantId, until: now + ACTIVE_CLIENT_MS }
    this.activeClients.set(clientId, entry)
    return entry
  }

  /** The client credentials grant: checks the secret, narrows the scope, signs a token. */
  async issue(clientId: ClientId, clientSecret: string, requestedScope: string | undefined): Promise<IssuedToken> {
    const client = await this.store.tenants.findClientAcrossTenants(clientId)
    // Verify against a dummy hash when the client is unknown, so timing does not tell.
    const ok = await verifySecret(clientSecret, client?.secretHash ?? DUMMY_HASH)
    if (!client || !ok || client.revokedAt) throw new OAuthError('invalid_client', 'Client authentication failed.')
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
    if (client.tenantId) claims.tenant_id = client.tenantId
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: SIGNING_ALG, typ: 'at+jwt', kid })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setSubject(client.id)
      .setIssuedAt(now)
      .setExpirationTime(now + this.options.ttlSeconds)
      .setJti(randomToken(16))
      .sign(privateKey)
    return { accessToken: token, expiresIn: this.options.ttlSeconds, scopes }
  }

  /** Verifies a bearer token; undefined when it is not one we accept. */
  async verify(token: string): Promise<Principal | undefined> {
    // In the background: verification never waits for it (refreshIfStale does not throw).
    void this.keys.refreshIfStale()
    try {
      const entry = this.cached(token) ?? (await this.verifySignedToken(token))
      if (!entry) return undefined
      const client = await this.activeClient(entry.principal.clientId!)
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
