/**
 * The `adyen` adapter as registered: its config schema now, its SDK (a few hundred
 * milliseconds to load) only when an account of it is first used.
 */
import type { ProcessorFactory } from '../registry.js'
import { checkAdyenConfig, type AdyenConfig } from './config.js'

export const adyenFactory: ProcessorFactory = {
  name: 'adyen',
  autoApprove: false,
  checkConfig: checkAdyenConfig,
  create: async (config, deps) => new (await import('./adyen.js')).AdyenProcessor(config as unknown as AdyenConfig, deps),
}
