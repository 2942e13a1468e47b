/** An Adyen account's configuration (SPEC "Card processors"). */
import { checkAgainst, checkApiBase, type ConfigSchema } from '../config-schema.js'

export interface AdyenConfig {
  api_key: string
  merchant_account: string
  /** The HMAC key of the webhook, hex. */
  hmac_key: string
  environment: 'test' | 'live'
  /** The live endpoint prefix Adyen gives each company (live only). */
  live_url_prefix?: string
  /** Where API calls go instead of Adyen (a mock or a proxy); set by the operator only. */
  api_base?: string
}

export const ADYEN_CONFIG: ConfigSchema = {
  api_key: { required: true, check: (v) => (v.length >= 10 ? undefined : 'must be an Adyen API key') },
  merchant_account: { required: true, check: (v) => (/^[A-Za-z0-9_.-]{1,80}$/.test(v) ? undefined : 'must be a merchant account name') },
  hmac_key: { required: true, check: (v) => (/^([0-9A-Fa-f]{2}){16,}$/.test(v) ? undefined : 'must be the webhook HMAC key in hex') },
  environment: { required: true, check: (v) => (v === 'test' || v === 'live' ? undefined : 'must be "test" or "live"') },
  live_url_prefix: {
    required: false,
    check: (v, c) => (c.environment !== 'live' ? 'is only for the live environment' : /^[A-Za-z0-9-]{1,100}$/.test(v) ? undefined : 'must be the prefix Adyen gave (letters, digits, -)'),
  },
  api_base: { required: false, check: checkApiBase },
}

export function checkAdyenConfig(config: unknown) {
  const problems = checkAgainst(ADYEN_CONFIG, config)
  const c = config as Record<string, unknown> | null
  if (!problems.length && c?.environment === 'live' && !c.live_url_prefix && !c.api_base) problems.push({ key: 'live_url_prefix', issue: 'is required for the live environment' })
  return problems
}
