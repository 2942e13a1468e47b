/**
 * Money inside paylink is an integer of minor units plus a currency code.
 *
 * Amounts arrive in major units as a JSON number or a decimal string. They are parsed
 * exactly from their decimal text with integer arithmetic, never by multiplying a float:
 * `"12.50"` USD is 1250, `"0.1"` KWD is 100, `"12.345"` USD is refused (too many digits).
 * A JSON number whose text a double cannot hold exactly reaches us as its text (see
 * `http/json.ts`), so it is judged on what the client wrote.
 */
import { minorUnits, type CurrencyCode } from './currencies.js'

/** The largest amount accepted, in minor units (999,999,999.99 USD; 999,999,999,999 JPY). */
export const MAX_AMOUNT_MINOR = 99_999_999_999

export interface Money {
  amountMinor: number
  currency: CurrencyCode
}

export type AmountProblem = 'not_a_decimal' | 'not_positive' | 'too_many_decimals' | 'too_large'

export const AMOUNT_PROBLEMS: Record<AmountProblem, string> = {
  not_a_decimal: 'must be a decimal number of major units, such as 12.50',
  not_positive: 'must be greater than 0',
  too_many_decimals: 'has more fraction digits than the currency allows',
  too_large: 'is larger than the maximum amount',
}

/** Digits and a power-of-ten exponent: value = digits × 10^exponent. */
interface Decimal {
  negative: boolean
  digits: string // no leading zeros; '0' for zero
  exponent: number
}

const DECIMAL_TEXT = /^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/

/** Reads decimal text (plain or scientific) into digits and exponent, exactly. */
export function readDecimal(text: string): Decimal | undefined {
  const m = DECIMAL_TEXT.exec(text)
  if (!m) return undefined
  const [, sign, int, frac = '', exp = '0'] = m
  if (exp.length > 6) return undefined
  let digits = (int! + frac).replace(/^0+/, '')
  let exponent = Number(exp) - frac.length
  if (digits === '') return { negative: false, digits: '0', exponent: 0 }
  const trailing = digits.length - digits.replace(/0+$/, '').length
  digits = digits.slice(0, digits.length - trailing)
  exponent += trailing
  return { negative: sign === '-', digits, exponent }
}

/**
 * The one text of the number a decimal (text or JSON number) denotes — `12.5`, `"12.50"` and
 * `1.25e1` give the same — or the input itself when it is no decimal: what an
 * Idempotency-Key compares, so that the same request written two ways is the same request.
 */
export function canonicalDecimal(input: unknown): unknown {
  const d = typeof input === 'string' || typeof input === 'number' ? readDecimal(String(input)) : undefined
  return d ? `${d.negative ? '-' : ''}${d.digits}e${d.exponent}` : input
}

/** True when two decimal texts denote the same number. */
export function sameDecimal(a: string, b: string): boolean {
  const x = readDecimal(a)
  const y = readDecimal(b)
  return !!x && !!y && x.negative === y.negative && x.digits === y.digits && x.exponent === y.exponent
}

/**
 * Parses an amount in major units into minor units of `currency`.
 * Strings must be plain decimals (`12`, `12.5`, `12.50`); numbers are read from the
 * shortest text that denotes them, which is the text the client sent.
 */
export function parseAmount(input: unknown, currency: CurrencyCode): { ok: true; amountMinor: number } | { ok: false; problem: AmountProblem } {
  let dec: Decimal | undefined
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return { ok: false, problem: 'not_a_decimal' }
    dec = readDecimal(String(input))
  } else if (typeof input === 'string' && /^-?\d+(\.\d+)?$/.test(input) && input.length <= 40) {
    dec = readDecimal(input)
  }
  if (!dec) return { ok: false, problem: 'not_a_decimal' }
  if (dec.negative || dec.digits === '0') return { ok: false, problem: 'not_positive' }
  const scale = minorUnits(currency)
  const shift = dec.exponent + scale
  if (shift < 0) return { ok: false, problem: 'too_many_decimals' }
  if (dec.digits.length + shift > 15) return { ok: false, problem: 'too_large' }
  // At most 15 digits: the digits, the power of ten and their product are all exact doubles.
  const amountMinor = Number(dec.digits) * 10 ** shift
  if (amountMinor > MAX_AMOUNT_MINOR) return { ok: false, problem: 'too_large' }
  return { ok: true, amountMinor }
}

/** Minor units as a decimal string in major units with the currency's digits: 1250 USD → "12.50". */
export function formatMajor(amountMinor: number, currency: CurrencyCode): string {
  const scale = minorUnits(currency)
  if (scale === 0) return String(amountMinor)
  const s = String(amountMinor).padStart(scale + 1, '0')
  return `${s.slice(0, -scale)}.${s.slice(-scale)}`
}
