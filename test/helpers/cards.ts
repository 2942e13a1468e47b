/**
 * The sandbox's test cards, by what they do, taken from src/processors/sandbox/cards.ts (never
 * copied), and card bodies as the page sends them.
 */
import { behaviourOf, SUCCEEDING_TEST_CARDS, TEST_CARD_NUMBERS, type Behaviour } from '../../src/processors/sandbox/cards.js'

type FailureCode = Extract<Behaviour, { kind: 'fail' }>['code']

const one = (what: string, found: string | undefined) => {
  if (!found) throw new Error(`the sandbox has no test card that ${what}`)
  return found
}
const succeeding = (prefix: string) => one(`succeeds starting ${prefix}`, SUCCEEDING_TEST_CARDS.find((n) => n.startsWith(prefix)))
const failingWith = (code: FailureCode) => {
  const failsSo = (n: string) => {
    const b = behaviourOf(n)
    return b.kind === 'fail' && b.code === code
  }
  return one(`fails as ${code}`, TEST_CARD_NUMBERS.find(failsSo))
}

export const CARDS = {
  visa: succeeding('4'),
  mastercard: succeeding('5'),
  amex: succeeding('37'),
  declined: failingWith('card_declined'),
  insufficientFunds: failingWith('insufficient_funds'),
  expired: failingWith('expired_card'),
  incorrectCvc: failingWith('incorrect_cvc'),
  processingError: failingWith('processing_error'),
  /** Asks for 3-D Secure: approve succeeds, decline fails as authentication_failed. */
  challenge: one('asks for 3-D Secure', TEST_CARD_NUMBERS.find((n) => behaviourOf(n).kind === 'challenge')),
  /** Succeeds; its refunds fail as processing_error. */
  refundFails: one('fails its refunds', TEST_CARD_NUMBERS.find((n) => { const b = behaviourOf(n); return b.kind === 'succeed' && b.refund === 'fail' })),
  /** Succeeds, but the answer is lost: the payment stays processing until recovery looks it up. */
  lostAnswer: one('loses its answer', TEST_CARD_NUMBERS.find((n) => { const b = behaviourOf(n); return b.kind === 'succeed' && b.answer === 'lost' })),
}

/** Every documented test card, the succeeding ones first. */
export { TEST_CARD_NUMBERS, SUCCEEDING_TEST_CARDS }
/** Every test card that declines, one per failure code. */
export const DECLINING_TEST_CARDS = TEST_CARD_NUMBERS.filter((n) => behaviourOf(n).kind === 'fail')

/** The visa test card with its last digit changed: it fails the Luhn check. */
export const NOT_LUHN = `${CARDS.visa.slice(0, -1)}${CARDS.visa.endsWith('1') ? '2' : '1'}`

const isAmex = (number: string) => /^3[47]/.test(number.replace(/\D/g, ''))

/** The number as the page shows it: 4242 4242 4242 4242, or 3782 822463 10005 for an amex. */
export function spaced(number: string): string {
  const digits = number.replace(/\D/g, '')
  if (isAmex(digits)) return `${digits.slice(0, 4)} ${digits.slice(4, 10)} ${digits.slice(10)}`
  return digits.replace(/(\d{4})(?=\d)/g, '$1 ')
}

/** A year every test card is still good in. */
export const EXP_YEAR = new Date().getUTCFullYear() + 2

/** A card as the page sends it: December of EXP_YEAR, a CVC of the right length. */
export const newCard = (number: string, extra: Record<string, unknown> = {}) => ({ number, exp_month: 12, exp_year: EXP_YEAR, cvc: isAmex(number) ? '1234' : '123', ...extra })
