/** OAuth's own forms (RFC 6749, RFC 8414, RFC 7517): these answers are not in the envelope. */
import type { JWK } from 'jose'
import { ALL_SCOPES } from '../../domain/oauth/scopes.js'
import type { IssuedToken, OAuthError } from '../../domain/oauth/tokens.js'

export const accessTokenJson = (t: IssuedToken) => ({
  access_token: t.accessToken,
  token_type: 'Bearer' as const,
  expires_in: t.expiresIn,
  scope: t.scopes.join(' '),
})

export const oauthErrorJson = (err: OAuthError) => ({ error: err.error, error_description: err.description })

/** The authorization server metadata of the service at `baseUrl`. */
export const authorizationServerMetadataJson = (baseUrl: string) => ({
  issuer: baseUrl,
  token_endpoint: `${baseUrl}/oauth/token`,
  jwks_uri: `${baseUrl}/.well-known/jwks.json`,
  grant_types_supported: ['client_credentials'],
  token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
  response_types_supported: ['token'],
  scopes_supported: [...ALL_SCOPES],
  service_documentation: `${baseUrl}/docs`,
})

export const jwksJson = (keys: JWK[]) => ({ keys })
