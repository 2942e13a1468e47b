/** Identifiers: the form every kind keeps, and the order of the time-ordered kinds. */
import { describe, expect, it } from 'vitest'
import { idPattern, newId, PREFIXES, type IdKind } from '../../src/domain/shared/ids.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('identifiers', () => {
  it('keep their prefix and 24 base32 characters (delivery ids: 32 hex digits), and never repeat', () => {
    for (const kind of Object.keys(PREFIXES) as IdKind[]) {
      const ids = Array.from({ length: 2000 }, () => newId(kind))
      for (const id of ids) expect(id).toMatch(new RegExp(kind === 'delivery' ? '^dlv_[0-9a-f]{32}$' : `^${PREFIXES[kind]}[0-9a-hjkmnp-tv-z]{24}$`))
      expect(new Set(ids).size, kind).toBe(ids.length)
      expect(ids.every((id) => new RegExp(idPattern(kind)).test(id))).toBe(true)
    }
  })

  it('of payment intents, events and refunds sort by the millisecond they were made; other kinds do not', async () => {
    for (const kind of ['paymentIntent', 'event', 'refund'] as const) {
      const made: string[] = []
      for (let i = 0; i < 5; i++) {
        made.push(newId(kind))
        await sleep(2)
      }
      expect([...made].sort(), kind).toEqual(made)
      // 70 random bits after the time: ids made in the same millisecond differ there.
      const same = Array.from({ length: 100 }, () => newId(kind).slice(PREFIXES[kind].length + 10))
      expect(new Set(same).size).toBe(100)
    }
    const users = Array.from({ length: 50 }, () => newId('user'))
    expect([...users].sort()).not.toEqual(users)
  })
})
