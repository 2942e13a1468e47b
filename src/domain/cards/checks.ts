/**
 * Card field checks, shared by the server and the payment page's script so that both
 * judge a card the same way: Luhn and brand (card-validator), an expiry month that has
 * not ended, a CVC of the brand's length. Runs in the browser too: no Node APIs here.
 */
import valid from 'card-validator'

export interface CardFields {
  number: string
  exp_month: number
  exp_year: number
  cvc: string
  name?: string
}

export type CardField = 'number' | 'exp_month' | 'exp_year' | 'expiry' | 'cvc' | 'name'

export interface CardProblem {
  field: CardField
  issue: string
}

const BRAND_NAMES: Record<string, string> = {
  visa: 'visa',
  mastercard: 'mastercard',
  'american-express': 'amex',
  'diners-club': 'diners',
  discover: 'discover',
  jcb: 'jcb',
  unionpay: 'unionpay',
  maestro: 'maestro',
  mir: 'mir',
  elo: 'elo',
  hiper: 'hiper',
  hipercard: 'hipercard',
}

/** Our brand name for a card number (digits only), or undefined when no brand matches. */
export function cardBrand(digits: string): string | undefined {
  const type = valid.number(digits).card?.type
  return type ? (BRAND_NAMES[type] ?? type) : undefined
}

/** The brand's CVC length (3, or 4 for Amex), for a number typed so far. */
export function cvcLength(digits: string): number {
  return valid.number(digits).card?.code.size ?? 3
}

/** Where to put spaces while the number is typed: 4242 4242 4242 4242, 3782 822463 10005. */
export function formatCardNumber(digits: string): string {
  const gaps = valid.number(digits).card?.gaps ?? [4, 8, 12]
  let out = ''
  for (let i = 0; i < digits.length; i++) {
    if (gaps.includes(i)) out += ' '
    out += digits[i]
  }
  return out
}

/** Every problem with a card, in form order; empty when the card may be charged. */
export function checkCard(card: CardFields, now: Date): CardProblem[] {
  const problems: CardProblem[] = []
  const digits = card.number.replace(/[\s-]/g, '')
  const num = valid.number(digits)
  if (!/^\d{12,19}$/.test(digits) || !num.isValid) problems.push({ field: 'number', issue: 'is not a valid card number' })
  const year = now.getUTCFullYear()
  const month = now.getUTCMonth() + 1
  if (!Number.isInteger(card.exp_month) || card.exp_month < 1 || card.exp_month > 12) problems.push({ field: 'exp_month', issue: 'must be a month from 1 to 12' })
  else if (!Number.isInteger(card.exp_year) || card.exp_year < year || card.exp_year > year + 25) problems.push({ field: 'exp_year', issue: 'must be this year or a later one' })
  else if (card.exp_year === year && card.exp_month < month) problems.push({ field: 'expiry', issue: 'is in the past' })
  const size = num.card?.code.size ?? 3
  if (!new RegExp(`^\\d{${size}}$`).test(card.cvc)) problems.push({ field: 'cvc', issue: `must be ${size} digits` })
  if (card.name !== undefined && (card.name.length > 100 || /[\u0000-\u001f]/.test(card.name))) problems.push({ field: 'name', issue: 'must be at most 100 characters' })
  return problems
}
