/**
 * The sandbox's test cards (SPEC "Sandbox test cards"). Any future expiry and any CVC of
 * the right length, unless noted; any other Luhn-valid number succeeds.
 */
import type { ProcessorFailure } from '../card-processor.js'

export type Behaviour =
  /**
   * `refund: 'fail'`: the charge succeeds, its refunds fail (as Stripe's card of that number).
   * `answer: 'lost'`: the charge succeeds but its answer is lost on the way (`unknown`),
   * so recovery can be tried: `lookup` tells the truth.
   */
  | { kind: 'succeed'; refund?: 'fail'; answer?: 'lost' }
  | { kind: 'fail'; code: ProcessorFailure }
  | { kind: 'challenge' }

const TABLE: Record<string, Behaviour> = {
  '4000000000000002': { kind: 'fail', code: 'card_declined' },
  '4000000000009995': { kind: 'fail', code: 'insufficient_funds' },
  '4000000000000069': { kind: 'fail', code: 'expired_card' },
  '4000000000000127': { kind: 'fail', code: 'incorrect_cvc' },
  '4000000000000119': { kind: 'fail', code: 'processing_error' },
  '4000002760003184': { kind: 'challenge' },
  '4000000000005126': { kind: 'succeed', refund: 'fail' },
  '4000000000007775': { kind: 'succeed', answer: 'lost' },
}

export const behaviourOf = (digits: string): Behaviour => TABLE[digits] ?? { kind: 'succeed' }

/** The numbers documented as succeeding (for docs and tests). */
export const SUCCEEDING_TEST_CARDS = ['4242424242424242', '5555555555554444', '378282246310005']
export const TEST_CARD_NUMBERS = [...SUCCEEDING_TEST_CARDS, ...Object.keys(TABLE)]
