/**
 * pino JSON logs. Card fields, tokens, secrets and Authorization headers are redacted
 * wherever they appear in a logged object; request URLs under /pay are logged without
 * their token.
 */
import pino, { type Logger } from 'pino'

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-paylink-session"]',
  'res.headers["set-cookie"]',
  '*.number',
  '*.cvc',
  '*.card_number',
  '*.client_secret',
  '*.secret',
  '*.access_token',
  '*.token',
  '*.password',
]

/** Query parameters whose values are never logged: credentials or a page session a client wrongly put in the URL, and what a processor's 3-D Secure returns with (the return's state value, Stripe's client secret, Adyen's redirect result). */
const SECRET_QUERY_PARAMS = /([?&](?:client_secret|client_assertion|access_token|refresh_token|id_token|token|secret|password|session|x-paylink-session|state|payment_intent_client_secret|redirectResult|MD|PaRes)=)[^&#]*/gi

/**
 * The URL as it may be logged: a link token in /pay/<token> or /portal/<token> is cut out
 * (the page's and the portal's assets, and the portal's API calls, are logged as themselves),
 * and so are credentials in the query.
 */
export const loggableUrl = (url: string) =>
  url
    .replace(/^\/pay\/(?!assets\/)[^/?#]+/, '/pay/[token]')
    .replace(/^\/portal\/(?!assets\/|api\/)[^/?#]+/, '/portal/[token]')
    .replace(SECRET_QUERY_PARAMS, '$1[redacted]')

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        // `ip` is the visitor's address: the socket's, or from X-Forwarded-For when TRUST_PROXY believes the proxy.
        req: (req: { method: string; url: string; id: string; ip?: string }) => ({ method: req.method, url: loggableUrl(req.url), id: req.id, ip: req.ip }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    destination,
  )
}
