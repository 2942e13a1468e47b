/** The `stripe` adapter as registered: its config schema now, its SDK only when an account of it is first used. */
import type { ProcessorFactory } from '../registry.js'
import { checkStripeConfig, type StripeConfig } from './config.js'

export const stripeFactory: ProcessorFactory = {
  name: 'stripe',
  autoApprove: false,
  prepares: true,
  checkConfig: checkStripeConfig,
  create: async (config, deps) => new (await import('./stripe.js')).StripeProcessor(config as unknown as StripeConfig, deps),
}
