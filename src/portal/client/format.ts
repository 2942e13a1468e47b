/** Numbers, amounts and times in the viewer's locale (Intl), made once per locale and kind. */

/** Major units as text ("12.50") from minor units and the currency's digits. */
export function toMajor(minor: number, digits: number): string {
  if (digits === 0) return String(minor)
  const sign = minor < 0 ? '-' : ''
  const text = String(Math.abs(minor)).padStart(digits + 1, '0')
  return `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`
}

/** The currency's minor-unit digits, as Intl knows them (USD 2, JPY 0, KWD 3). */
export const digitsOf = (currency: string) => {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
  } catch {
    return 2
  }
}

export class Formats {
  private readonly cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>()
  constructor(readonly locale: string) {}

  private number(key: string, make: () => Intl.NumberFormat) {
    let f = this.cache.get(key) as Intl.NumberFormat | undefined
    if (!f) this.cache.set(key, (f = make()))
    return f
  }
  private date(key: string, options: Intl.DateTimeFormatOptions) {
    let f = this.cache.get(key) as Intl.DateTimeFormat | undefined
    if (!f) this.cache.set(key, (f = new Intl.DateTimeFormat(this.locale, options)))
    return f
  }

  /** An amount in major units ("12.50", as the API gives it) with its currency's digits. */
  money(amountMajor: string | number, currency: string): string {
    const text = String(amountMajor)
    const digits = text.includes('.') ? text.split('.')[1]!.length : digitsOf(currency)
    try {
      return this.number(`m${currency}${digits}`, () => new Intl.NumberFormat(this.locale, { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits })).format(Number(text))
    } catch {
      return `${text} ${currency}`
    }
  }
  count = (n: number) => this.number('n', () => new Intl.NumberFormat(this.locale)).format(n)
  percent = (ratio: number) => this.number('p', () => new Intl.NumberFormat(this.locale, { style: 'percent', maximumFractionDigits: 1 })).format(ratio)
  ms = (n: number) => this.number('ms', () => new Intl.NumberFormat(this.locale, { style: 'unit', unit: 'millisecond', unitDisplay: 'short' })).format(n)
  dateTime = (iso: string) => this.date('dt', { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(iso))
  time = (iso: string) => this.date('t', { timeStyle: 'short' }).format(new Date(iso))
  hour = (iso: string) => this.date('h', { hour: 'numeric', minute: '2-digit' }).format(new Date(iso))
  dayHour = (iso: string) => this.date('dh', { weekday: 'short', hour: 'numeric', minute: '2-digit' }).format(new Date(iso))
  /** A UTC day (the stats' day buckets are UTC days, whatever the viewer's zone). */
  day = (iso: string) => this.date('d', { month: 'short', day: 'numeric', timeZone: 'UTC' }).format(new Date(iso))
}
