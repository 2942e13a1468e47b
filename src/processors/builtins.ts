/** The adapters that ship with paylink. The composition root imports this once; each adapter's SDK loads when first used. */
import { registerProcessor } from './registry.js'
import { adyenFactory } from './adyen/factory.js'
import { sandboxFactory } from './sandbox/sandbox.js'
import { stripeFactory } from './stripe/factory.js'

registerProcessor(sandboxFactory)
registerProcessor(stripeFactory)
registerProcessor(adyenFactory)
