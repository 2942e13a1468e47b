/**
 * SPEC "Money": an amount is a JSON number or a decimal string in major units, > 0, with no
 * more fraction digits than the currency's ISO 4217 minor unit, at most MAX_AMOUNT_MINOR,
 * stored as an integer of minor units and parsed exactly from its decimal text, never by
 * float multiplication. The JSON body parser hands on number literals a double cannot hold
 * exactly as their text, so the amount is judged on what the client wrote.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { allCurrencies, minorUnits, toCurrency, type CurrencyCode } from '../../src/domain/shared/currencies.js'
import { MAX_AMOUNT_MINOR, formatMajor, parseAmount } from '../../src/domain/shared/money.js'
import { parseJsonBody, quoteInexactNumbers } from '../../src/http/json.js'

const cur = (code: string): CurrencyCode => toCurrency(code)!
const USD = cur('USD')
const JPY = cur('JPY')
const KWD = cur('KWD')

const anyCurrency = fc.constantFrom(...allCurrencies())
/** One currency of each exponent the SPEC names (0, 2, 3), plus any current code. */
const currencies = fc.oneof(fc.constantFrom(JPY, USD, KWD), anyCurrency)
const validMinor = fc.oneof(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: MAX_AMOUNT_MINOR }))

/** What an amount field holds after the client's JSON went through the body parser. */
const amountFromJson = (literal: string): unknown => (parseJsonBody(`{"amount":${literal}}`) as { amount: unknown }).amount

const accepted = (minor: number) => ({ ok: true, amountMinor: minor })
const refused = (problem: string) => ({ ok: false, problem })

describe('the currency table', () => {
  it('knows the minor units the SPEC names: USD 2, JPY 0, KWD 3', () => {
    expect([minorUnits(USD), minorUnits(JPY), minorUnits(KWD)]).toEqual([2, 0, 3])
  })
})

describe('an amount is parsed exactly for every currency exponent', () => {
  it('a decimal string in major units parses back to the same minor units', () => {
    fc.assert(
      fc.property(validMinor, currencies, (minor, currency) => {
        expect(parseAmount(formatMajor(minor, currency), currency)).toEqual(accepted(minor))
      }),
    )
  })

  it('the same amount sent as a JSON number arrives as a number and parses back to the same minor units', () => {
    fc.assert(
      fc.property(validMinor, currencies, (minor, currency) => {
        const amount = amountFromJson(formatMajor(minor, currency))
        // Every allowed amount has at most 15 significant digits, so a double holds it exactly.
        expect(typeof amount).toBe('number')
        expect(parseAmount(amount, currency)).toEqual(accepted(minor))
      }),
    )
  })

  it('a JavaScript number built from the decimal text parses to the same minor units', () => {
    fc.assert(
      fc.property(validMinor, currencies, (minor, currency) => {
        expect(parseAmount(Number(formatMajor(minor, currency)), currency)).toEqual(accepted(minor))
      }),
    )
  })

  it('trailing zeros within the currency digits change nothing: 12, 12.5 and 12.50 USD are all 1250', () => {
    expect(parseAmount('12', USD)).toEqual(accepted(1200))
    expect(parseAmount('12.5', USD)).toEqual(accepted(1250))
    expect(parseAmount('12.50', USD)).toEqual(accepted(1250))
    expect(parseAmount(12.5, USD)).toEqual(accepted(1250))
    expect(parseAmount('0.1', KWD)).toEqual(accepted(100))
    expect(parseAmount(1500, JPY)).toEqual(accepted(1500))
  })
})

describe('never float multiplication artefacts', () => {
  // Each of these is wrong when computed as Math.floor(amount * 10 ** digits).
  const cases: [string, CurrencyCode, number][] = [
    ['0.29', USD, 29],
    ['19.99', USD, 1999],
    ['4.35', USD, 435],
    ['0.57', USD, 57],
    ['1.15', USD, 115],
    ['1.005', KWD, 1005],
    ['4.015', KWD, 4015],
    ['1.001', KWD, 1001],
  ]

  it.each(cases)('%s %s is exactly %i minor units, as a string and as a number', (text, currency, minor) => {
    expect(Math.floor(Number(text) * 10 ** minorUnits(currency))).not.toBe(minor) // the trap is real
    expect(parseAmount(text, currency)).toEqual(accepted(minor))
    expect(parseAmount(Number(text), currency)).toEqual(accepted(minor))
    expect(parseAmount(amountFromJson(text), currency)).toEqual(accepted(minor))
  })

  it('0.1 + 0.2 is not 0.30 USD: it is refused for its extra digits, not rounded', () => {
    expect(parseAmount(0.1 + 0.2, USD)).toEqual(refused('too_many_decimals'))
  })
})

describe('more fraction digits than the currency allows are refused', () => {
  it('one more non-zero digit than the currency has is refused, as a string and as a number', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999 }), currencies, fc.integer({ min: 1, max: 9 }), (minor, currency, extra) => {
        const major = formatMajor(minor, currency)
        const text = `${major}${minorUnits(currency) === 0 ? '.' : ''}${extra}`
        expect(parseAmount(text, currency)).toEqual(refused('too_many_decimals'))
        expect(parseAmount(amountFromJson(text), currency)).toEqual(refused('too_many_decimals'))
      }),
    )
  })

  it('USD 12.345, JPY 1.5 and KWD 1.0001 are refused', () => {
    expect(parseAmount('12.345', USD)).toEqual(refused('too_many_decimals'))
    expect(parseAmount(12.345, USD)).toEqual(refused('too_many_decimals'))
    expect(parseAmount('1.5', JPY)).toEqual(refused('too_many_decimals'))
    expect(parseAmount(1.5, JPY)).toEqual(refused('too_many_decimals'))
    expect(parseAmount('1.0001', KWD)).toEqual(refused('too_many_decimals'))
  })

  it('a literal a double would round (12.300000000000000001) is judged on its own digits', () => {
    expect(parseAmount(amountFromJson('12.300000000000000001'), USD)).toEqual(refused('too_many_decimals'))
  })
})

describe('an amount must be greater than 0', () => {
  it('zero in any spelling is refused', () => {
    for (const zero of [0, -0, '0', '0.00', '0.0', '-0']) {
      expect(parseAmount(zero, USD), String(zero)).toEqual(refused('not_positive'))
    }
  })

  it('every negative amount is refused, as a string and as a number', () => {
    fc.assert(
      fc.property(validMinor, currencies, (minor, currency) => {
        const text = `-${formatMajor(minor, currency)}`
        expect(parseAmount(text, currency)).toEqual(refused('not_positive'))
        expect(parseAmount(Number(text), currency)).toEqual(refused('not_positive'))
      }),
    )
  })
})

describe('an amount has an upper bound', () => {
  it('MAX_AMOUNT_MINOR itself is accepted in every currency', () => {
    fc.assert(
      fc.property(currencies, (currency) => {
        expect(parseAmount(formatMajor(MAX_AMOUNT_MINOR, currency), currency)).toEqual(accepted(MAX_AMOUNT_MINOR))
      }),
    )
    expect(parseAmount('999999999.99', USD)).toEqual(accepted(MAX_AMOUNT_MINOR))
  })

  it('anything above MAX_AMOUNT_MINOR is refused, as a string and as a number', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_AMOUNT_MINOR + 1, max: Number.MAX_SAFE_INTEGER }), currencies, (minor, currency) => {
        expect(parseAmount(formatMajor(minor, currency), currency)).toEqual(refused('too_large'))
      }),
    )
    // Up to 15 significant digits a double holds the decimal exactly, so the number says the same.
    fc.assert(
      fc.property(fc.integer({ min: MAX_AMOUNT_MINOR + 1, max: 10 ** 15 - 1 }), currencies, (minor, currency) => {
        expect(parseAmount(Number(formatMajor(minor, currency)), currency)).toEqual(refused('too_large'))
      }),
    )
    expect(parseAmount('1000000000', USD)).toEqual(refused('too_large'))
    expect(parseAmount(1e21, USD)).toEqual(refused('too_large'))
    expect(parseAmount(amountFromJson('1e400'), USD).ok).toBe(false)
  })
})

describe('only decimal numbers of major units are amounts', () => {
  it('refuses text that is not a plain decimal and values that are not numbers or strings', () => {
    for (const bad of ['abc', '', ' 12', '12 ', '12.', '.5', '+12', '1e3', '12,50', '0x10', 'Infinity', 'NaN', '١٢']) {
      expect(parseAmount(bad, USD), JSON.stringify(bad)).toEqual(refused('not_a_decimal'))
    }
    for (const bad of [true, false, null, undefined, {}, [12], Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(parseAmount(bad, USD), String(bad)).toEqual(refused('not_a_decimal'))
    }
  })

  it('never throws and never accepts an amount it cannot give back exactly', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.double(), fc.jsonValue()), currencies, (input, currency) => {
        const r = parseAmount(input, currency)
        if (r.ok) {
          expect(Number.isSafeInteger(r.amountMinor)).toBe(true)
          expect(r.amountMinor).toBeGreaterThan(0)
          expect(r.amountMinor).toBeLessThanOrEqual(MAX_AMOUNT_MINOR)
          // What was accepted denotes exactly the minor units it became.
          expect(parseAmount(formatMajor(r.amountMinor, currency), currency)).toEqual(r)
          expect(Number(formatMajor(r.amountMinor, currency))).toBe(Number(input))
        }
      }),
    )
  })
})

/** A number literal with 19+ significant digits: no double's shortest text is that long. */
const inexactLiteral = fc
  .tuple(
    fc.boolean(),
    fc.stringMatching(/^[1-9]\d{0,8}$/),
    fc.stringMatching(/^\d{17,30}[1-9]$/),
  )
  .map(([negative, int, frac]) => `${negative ? '-' : ''}${int}.${frac}`)

describe('the JSON body parser keeps exact numbers and hands on inexact ones as their text', () => {
  it('a number whose literal a double holds exactly stays that number', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        const text = `{"amount":${JSON.stringify(d)}}`
        expect(quoteInexactNumbers(text)).toBe(text)
        const { amount } = parseJsonBody(text) as { amount: unknown }
        expect(typeof amount).toBe('number')
        expect(amount === d).toBe(true)
      }),
    )
    expect(parseJsonBody('{"a":12.50,"b":1E2,"c":-0.001,"d":0}')).toEqual({ a: 12.5, b: 100, c: -0.001, d: 0 })
  })

  it('12.300000000000000001 and 1e400 become strings holding exactly what was written', () => {
    expect(parseJsonBody('{"amount":12.300000000000000001}')).toEqual({ amount: '12.300000000000000001' })
    expect(parseJsonBody('{"amount":1e400}')).toEqual({ amount: '1e400' })
    expect(parseJsonBody('[1e-400, 12345678901234567890, 0.1]')).toEqual(['1e-400', '12345678901234567890', 0.1])
  })

  it('any inexact literal anywhere in a document becomes a string of its text, and nothing else changes', () => {
    fc.assert(
      fc.property(inexactLiteral, fc.jsonValue(), (literal, other) => {
        fc.pre(!/"(__proto__|constructor)":/.test(JSON.stringify(other)))
        const text = `{"other":${JSON.stringify(other)},"list":[1,${literal},"x"],"amount":${literal}}`
        const parsed = parseJsonBody(text) as { other: unknown; list: unknown[]; amount: unknown }
        expect(parsed.amount).toBe(literal)
        expect(parsed.list).toEqual([1, literal, 'x'])
        expect(parsed.other).toEqual(JSON.parse(JSON.stringify(other)))
      }),
    )
  })

  it('strings that contain digits are never touched', () => {
    expect(parseJsonBody('{"note":"12.300000000000000001 and 1e400","q":"say \\"1e400\\" \\\\ 9"}')).toEqual({
      note: '12.300000000000000001 and 1e400',
      q: 'say "1e400" \\ 9',
    })
    expect(parseJsonBody('{"path":"C:\\\\1e400","n":1}')).toEqual({ path: 'C:\\1e400', n: 1 })
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), inexactLiteral, (s, literal) => {
        // Escapes right before the digits too: a scanner that loses its place in a string would quote them.
        const text = JSON.stringify({ [`${literal}${s}`]: `${s}${literal}"\\${s}`, list: [`\\${literal}`, `"${literal}`, `${s}\\"${literal}`] })
        expect(quoteInexactNumbers(text)).toBe(text)
      }),
    )
  })

  it('arbitrary JSON whose numbers are all exact round-trips unchanged', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(quoteInexactNumbers(text)).toBe(text)
        fc.pre(!/"(__proto__|constructor)":/.test(text))
        expect(parseJsonBody(text)).toEqual(JSON.parse(text))
      }),
    )
  })

  it('still refuses __proto__ and constructor keys, as fields it does not know', () => {
    expect(() => parseJsonBody('{"__proto__":{"x":1}}')).toThrow(expect.objectContaining({ code: 'validation_error', details: [{ field: '__proto__', issue: 'is not a known field' }] }))
    expect(() => parseJsonBody('{"constructor":{"prototype":{}}}')).toThrow(expect.objectContaining({ code: 'validation_error', details: [{ field: 'constructor.prototype', issue: 'is not a known field' }] }))
    expect(() => parseJsonBody('{"a":')).toThrow(SyntaxError)
  })
})
