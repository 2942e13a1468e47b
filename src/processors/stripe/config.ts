/** A Stripe account's configuration (SPEC "Card processors"). */
import { checkAgainst, checkApiBase, type ConfigSchema } from '../config-schema.js'

export interface StripeConfig {
  secret_key: string
  webhook_secret: string
  /** Where API calls go instead of https://api.stripe.com (a mock or a proxy); set by the operator only. */
  api_base?: string
}

export const STRIPE_CONFIG: ConfigSchema = {
  secret_key: { required: true, check: (v) => (/^(sk_test_|sk_live_|rk_test_|rk_live_)[A-Za-z0-9_]+$/.test(v) ? undefined : 'must be a Stripe secret key (sk_test_…, sk_live_…) or restricted key (rk_…)') },
  webhook_secret: { required: true, check: (v) => (/^whsec_[A-Za-z0-9+/=_]+$/.test(v) ? undefined : 'must be a webhook signing secret (whsec_…)') },
  api_base: { required: false, check: checkApiBase },
}

export const checkStripeConfig = (config: unknown) => checkAgainst(STRIPE_CONFIG, config)
