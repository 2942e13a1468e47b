/** The headers every /pay response carries (SPEC "The page"). */
export function payHeaders(frameAncestors: string[], formAction = "'self'"): Record<string, string> {
  const ancestors = frameAncestors.length ? frameAncestors.join(' ') : "'none'"
  return {
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      `form-action ${formAction}`,
      "base-uri 'none'",
      `frame-ancestors ${ancestors}`,
    ].join('; '),
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  }
}
