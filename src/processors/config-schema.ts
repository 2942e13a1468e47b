/**
 * Checks an account's processor configuration against an adapter's schema at once, so that
 * a typo is refused when the operator types it, not when the first shopper pays: every
 * missing, unknown or mistyped key is named. Values are never echoed back (they are
 * credentials).
 */
import type { ConfigProblem } from './registry.js'

export interface KeyRule {
  required: boolean
  /** Answers what is wrong with a value (a string is already known), or undefined when it is fine. */
  check: (value: string, config: Record<string, unknown>) => string | undefined
}

export type ConfigSchema = Record<string, KeyRule>

export function checkAgainst(schema: ConfigSchema, config: unknown = {}): ConfigProblem[] {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return [{ key: '(config)', issue: 'must be a JSON object' }]
  const given = config as Record<string, unknown>
  const problems: ConfigProblem[] = []
  for (const [key, rule] of Object.entries(schema)) {
    const value = given[key]
    if (value === undefined) {
      if (rule.required) problems.push({ key, issue: 'is required' })
      continue
    }
    if (typeof value !== 'string') {
      problems.push({ key, issue: 'must be a string' })
      continue
    }
    const issue = rule.check(value, given)
    if (issue) problems.push({ key, issue })
  }
  for (const key of Object.keys(given)) if (!(key in schema)) problems.push({ key, issue: `is not a setting of this processor (known: ${Object.keys(schema).join(', ')})` })
  return problems
}

/** An http(s) URL without credentials, query or fragment: where an account's API calls go instead of the processor (a mock, a proxy). */
export function checkApiBase(value: string): string | undefined {
  try {
    const u = new URL(value)
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'must be an http(s) URL'
    if (u.username || u.password || u.search || u.hash) return 'must be a plain URL (no credentials, query or fragment)'
    return undefined
  } catch {
    return 'must be an http(s) URL'
  }
}
