/**
 * Current ISO 4217 currency codes and their minor units (the number of fraction digits).
 * Codes without a minor unit (precious metals, SDR, testing codes) and withdrawn codes
 * are left out: they can never be charged. Listed by the digits of their minor unit; most have two.
 */
const CODES_BY_MINOR_UNITS: Record<number, string> = {
  0: 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF',
  2: 'AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG',
  3: 'BHD IQD JOD KWD LYD OMR TND',
  4: 'CLF UYW',
}

/** Code → fraction digits, in alphabetical order of the codes. */
const MINOR_UNITS: Record<string, number> = Object.fromEntries(
  Object.entries(CODES_BY_MINOR_UNITS)
    .flatMap(([digits, codes]) => codes.split(' ').map((code): [string, number] => [code, Number(digits)]))
    .sort(([a], [b]) => (a < b ? -1 : 1)),
)

/** An upper-case ISO 4217 code that is current and has a minor unit. */
export type CurrencyCode = string & { readonly __currency: true }

/** Upper-cases and checks a code; undefined when it is not a current ISO 4217 code. */
export function toCurrency(code: string): CurrencyCode | undefined {
  const upper = code.toUpperCase()
  return /^[A-Z]{3}$/.test(upper) && upper in MINOR_UNITS ? (upper as CurrencyCode) : undefined
}

/** Fraction digits of the currency's minor unit (USD 2, JPY 0, KWD 3). */
export const minorUnits = (currency: CurrencyCode): number => MINOR_UNITS[currency]!

export const allCurrencies = (): CurrencyCode[] => Object.keys(MINOR_UNITS) as CurrencyCode[]
