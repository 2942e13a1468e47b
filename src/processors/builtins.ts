/** The adapters that ship with paylink. The composition root imports this once. */
import { registerProcessor } from './registry.js'
import { adyenFactory } from './adyen/adyen.js'
import { sandboxFactory } from './sandbox/sandbox.js'
import { stripeFactory } from './stripe/stripe.js'

registerProcessor(sandboxFactory)
registerProcessor(stripeFactory)
registerProcessor(adyenFactory)
