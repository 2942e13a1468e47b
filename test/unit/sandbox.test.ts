/**
 * The sandbox processor charges at most once per idempotency key, whatever the retry
 * sends: the first answer stands, and a retry that asks to save the card vaults nothing more.
 * Run on the test database (PGlite or PostgreSQL), each case with keys of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../src/storage/db.js'
import { SandboxProcessor } from '../../src/processors/sandbox/sandbox.js'
import { randomBase32 } from '../../src/domain/shared/random.js'
import { CARDS, EXP_YEAR, TestClock, openTestDb } from '../helpers/index.js'

let db: Db
let sandbox: SandboxProcessor
beforeAll(async () => {
  db = await openTestDb()
  sandbox = new SandboxProcessor({ db, clock: new TestClock() })
})
afterAll(async () => {
  await db?.close()
})

const card = (number: string) => ({ number, expMonth: 12, expYear: EXP_YEAR, cvc: '123' })
const charge = (key: string, number: string, saveCard = false) =>
  sandbox.charge({ idempotencyKey: key, amountMinor: 1250, currency: 'USD', card: card(number), saveCard, accountConfig: {} })
const rowsFor = (key: string) => db.query<{ status: string; reference: string }>('SELECT status, reference FROM sandbox_charges WHERE idempotency_key = $1', [key])
const vaultSize = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM sandbox_vault'))[0]!.n

describe('sandbox: one charge per idempotency key', () => {
  it('answers a retry with the first charge, even when the retry sends a card that would fail', async () => {
    const key = `pi_${randomBase32(24)}`
    const first = await charge(key, CARDS.visa)
    expect(first.outcome).toBe('succeeded')
    const retry = await charge(key, CARDS.declined)
    expect(retry).toEqual(first)
    expect(await rowsFor(key)).toEqual([{ status: 'succeeded', reference: first.reference }])
  })

  it('answers a retry of a declined charge with the decline, not a new charge', async () => {
    const key = `pi_${randomBase32(24)}`
    const first = await charge(key, CARDS.declined)
    expect(first).toMatchObject({ outcome: 'failed', failureCode: 'card_declined' })
    expect(await charge(key, CARDS.visa)).toEqual(first)
    expect(await rowsFor(key)).toHaveLength(1)
  })

  it('vaults the card once when a charge that saves it is retried', async () => {
    const key = `pi_${randomBase32(24)}`
    const before = await vaultSize()
    const first = await charge(key, CARDS.mastercard, true)
    expect(first.savedToken).toMatch(/^sbx_tok_/)
    const retry = await charge(key, CARDS.mastercard, true)
    expect(retry.savedToken).toBe(first.savedToken)
    expect(await vaultSize()).toBe(before + 1)
  })

  it('charges once when 20 calls with one key race', async () => {
    const key = `pi_${randomBase32(24)}`
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => charge(key, i % 2 ? CARDS.visa : CARDS.declined)))
    expect(new Set(answers.map((a) => a.reference)).size).toBe(1)
    expect(await rowsFor(key)).toHaveLength(1)
  })
})
