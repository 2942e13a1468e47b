/**
 * OAuth 2.0: the token endpoint (client credentials, RFC 6749 §4.4), authorization-server
 * metadata (RFC 8414) and the JWKS. These answer in OAuth's own forms, not the envelope.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { SwaggerTransform } from '@fastify/swagger'
import { Type } from 'typebox'
import type { App, Uses } from '../types.js'
import { OAuthError } from '../../domain/oauth/tokens.js'
import type { ClientId } from '../../domain/shared/ids.js'
import { RULES } from '../plugins/rate-limit.js'
import { ErrorEnvelope } from '../schemas/common.js'
import { AccessToken, OAuthErrorBody } from '../schemas/objects.js'
import { accessTokenJson, authorizationServerMetadataJson, jwksJson, oauthErrorJson } from '../presenters/index.js'

/** Reads the client's credentials from HTTP Basic (client_secret_basic) or the form (client_secret_post); never both. */
function clientCredentials(request: FastifyRequest, form: Record<string, unknown>): { id: string; secret: string } {
  const header = request.headers.authorization
  const inForm = form.client_id !== undefined || form.client_secret !== undefined
  if (header) {
    const m = /^Basic +([A-Za-z0-9+/]+=*)$/i.exec(header)
    if (!m || inForm) throw new OAuthError('invalid_request', 'Use exactly one client authentication method.')
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) throw new OAuthError('invalid_client', 'Malformed Basic credentials.')
    // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '))
    try {
      return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) }
    } catch {
      throw new OAuthError('invalid_client', 'Malformed Basic credentials.')
    }
  }
  if (typeof form.client_id !== 'string' || typeof form.client_secret !== 'string') {
    throw new OAuthError('invalid_client', 'Send client credentials with HTTP Basic or client_id and client_secret in the form.')
  }
  return { id: form.client_id, secret: form.client_secret }
}

/** Client ids are ours (`cli_…`): anything else cannot authenticate, and never reaches the database. */
const CLIENT_ID = /^cli_[0-9a-z]{1,64}$/

/** RFC 6749 §5.2: a failed client authentication is 401 with a challenge; every other error 400. */
function sendOAuthError(reply: FastifyReply, err: OAuthError) {
  if (err.error === 'invalid_client') reply.code(401).header('www-authenticate', 'Basic realm="paylink"')
  else reply.code(400)
  return reply.header('cache-control', 'no-store').send(oauthErrorJson(err))
}

/**
 * The token request's form, for the OpenAPI document only. Fastify never validates the body
 * against it (the handler reads the form itself): every mistake must still be answered in
 * RFC 6749's own words (`invalid_request`, `unsupported_grant_type`, `invalid_client`), not as
 * a schema error. Unknown parameters are ignored (RFC 6749 §3.2), so the form is open.
 */
const TokenRequestForm = Type.Object(
  {
    grant_type: Type.Literal('client_credentials'),
    scope: Type.Optional(Type.String({ description: 'Space-separated scopes, among those the client holds; all of them when absent.', examples: ['payments:write payments:read'] })),
    client_id: Type.Optional(Type.String({ description: 'With `client_secret`, instead of HTTP Basic (`client_secret_post`).', examples: ['cli_5g3k9c2m1q8w4e7r6t0y2u3i'] })),
    client_secret: Type.Optional(Type.String({ description: 'The client’s secret (`client_secret_post`).' })),
  },
  { description: 'Send the client’s credentials either with HTTP Basic or as `client_id` and `client_secret` here, never both.' },
)

/** Documents the form body and the two ways to authenticate, without Fastify validating either. */
const documentTokenRequest: SwaggerTransform = ({ schema, url }) => ({
  url,
  schema: { ...schema, body: TokenRequestForm, security: [{ clientBasic: [] }, {}] } as typeof schema,
})

export function oauthRoutes(app: App, { tokens, keys, config, limiter }: Uses<'tokens' | 'keys' | 'config' | 'limiter'>) {
  app.post(
    '/oauth/token',
    {
      config: { oauthErrors: true, swaggerTransform: documentTokenRequest },
      schema: {
        operationId: 'createAccessToken',
        summary: 'Get an access token (client credentials grant)',
        description: 'Form-encoded. Authenticate with HTTP Basic (`client_secret_basic`) or with `client_id` and `client_secret` in the form (`client_secret_post`). Errors follow RFC 6749 §5.2.',
        tags: ['oauth'],
        consumes: ['application/x-www-form-urlencoded'],
        // A rate-limited request is refused in the envelope (rate_limited, with Retry-After), like every other rule.
        // 401 is invalid_client, with a Basic challenge (RFC 6749 §5.2).
        response: { 200: AccessToken, 401: OAuthErrorBody, 429: ErrorEnvelope, '4XX': OAuthErrorBody },
      },
    },
    async (request, reply) => {
      try {
        if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(request.headers['content-type'] ?? '')) throw new OAuthError('invalid_request', 'Send the request as application/x-www-form-urlencoded.')
        const form = (request.body ?? {}) as Record<string, unknown>
        for (const [k, v] of Object.entries(form)) {
          if (typeof v !== 'string') throw new OAuthError('invalid_request', `Parameter ${k} was sent more than once.`)
          if (v.includes('\u0000')) throw new OAuthError('invalid_request', `Parameter ${k} holds a NUL character.`)
        }
        const creds = clientCredentials(request, form)
        if (!CLIENT_ID.test(creds.id)) throw new OAuthError('invalid_client', 'Client authentication failed.')
        if (form.grant_type === undefined) throw new OAuthError('invalid_request', 'grant_type is required.')
        if (form.grant_type !== 'client_credentials') throw new OAuthError('unsupported_grant_type', 'Only client_credentials is supported.')
        // Per IP before the slow secret check; per client only once the secret is proved.
        await limiter.check(RULES.tokenPerIp, request.ip)
        const issued = await tokens.issue(creds.id as ClientId, creds.secret, form.scope as string | undefined)
        await limiter.check(RULES.tokenPerClient, creds.id)
        return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(accessTokenJson(issued))
      } catch (err) {
        if (err instanceof OAuthError) return sendOAuthError(reply, err)
        throw err
      }
    },
  )

  app.get(
    '/.well-known/oauth-authorization-server',
    { schema: { operationId: 'getAuthorizationServerMetadata', summary: 'OAuth 2.0 authorization server metadata (RFC 8414)', tags: ['oauth'] } },
    async () => authorizationServerMetadataJson(config.publicBaseUrl),
  )

  app.get(
    '/.well-known/jwks.json',
    { schema: { operationId: 'getJwks', summary: 'Public keys that sign access tokens (current and previous)', tags: ['oauth'] } },
    async (_request, reply) => {
      await keys.refreshIfStale()
      return reply.header('cache-control', 'public, max-age=300').send(jwksJson(keys.publicJwks()))
    },
  )
}
