/**
 * The sandbox processor on the adapter contract (src/processors/card-processor.ts): it
 * charges at most once per attempt key, whatever the retry sends (the first answer stands,
 * and a retry that asks to save the card vaults nothing more); its lost-answer card answers
 * `unknown` and then the truth on `lookup`; `cancel` closes a key; refunds settle at once.
 * Run on the test database (PGlite or PostgreSQL), each case with keys of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../src/storage/db.js'
import { SandboxProcessor } from '../../src/processors/sandbox/sandbox.js'
import type { Outcome } from '../../src/processors/card-processor.js'
import { randomBase32 } from '../../src/domain/shared/random.js'
import { CARDS, EXP_YEAR, TestClock, openTestDb } from '../helpers/index.js'

let db: Db
let sandbox: SandboxProcessor
beforeAll(async () => {
  db = await openTestDb()
  sandbox = new SandboxProcessor({ db, clock: new TestClock(), timeoutMs: 1000 })
})
afterAll(async () => {
  await db?.close()
})

const newKey = () => `pi_${randomBase32(24)}`
const card = (number: string) => ({ number, expMonth: 12, expYear: EXP_YEAR, cvc: '123' })
const attempt = (key: string) => ({ key, remember: async () => {} })
const charge = (key: string, number: string, save = false) =>
  sandbox.authorize(attempt(key), {
    amountMinor: 1250,
    currency: 'USD',
    card: card(number),
    returnUrl: 'http://localhost/return',
    ...(save ? { saveFor: { shopperReference: 'usr_1' } } : {}),
  })
const refOf = (o: Outcome) => ('processorRef' in o ? o.processorRef : undefined)
const rowsFor = (key: string) => db.query<{ status: string; reference: string }>('SELECT status, reference FROM sandbox_charges WHERE idempotency_key = $1', [key])
const vaultSize = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM sandbox_vault'))[0]!.n

describe('sandbox: one charge per attempt key', () => {
  it('answers a retry with the first charge, even when the retry sends a card that would fail', async () => {
    const key = newKey()
    const first = await charge(key, CARDS.visa)
    expect(first.kind).toBe('succeeded')
    const retry = await charge(key, CARDS.declined)
    expect(retry).toEqual(first)
    expect(await rowsFor(key)).toEqual([{ status: 'succeeded', reference: refOf(first) }])
  })

  it('answers a retry of a declined charge with the decline, not a new charge', async () => {
    const key = newKey()
    const first = await charge(key, CARDS.declined)
    expect(first).toMatchObject({ kind: 'failed', failureCode: 'card_declined', processorCode: 'card_declined' })
    expect(await charge(key, CARDS.visa)).toEqual(first)
    expect(await rowsFor(key)).toHaveLength(1)
  })

  it('vaults the card once when a charge that saves it is retried', async () => {
    const key = newKey()
    const before = await vaultSize()
    const first = await charge(key, CARDS.mastercard, true)
    expect(first.kind === 'succeeded' && first.savedCard?.token).toMatch(/^sbx_tok_/)
    const retry = await charge(key, CARDS.mastercard, true)
    expect(retry).toEqual(first)
    expect(await vaultSize()).toBe(before + 1)
  })

  it('charges once when 20 calls with one key race', async () => {
    const key = newKey()
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => charge(key, i % 2 ? CARDS.visa : CARDS.declined)))
    expect(new Set(answers.map(refOf)).size).toBe(1)
    expect(await rowsFor(key)).toHaveLength(1)
  })
})

describe('sandbox: outcomes nobody knows yet, and closing an attempt', () => {
  it('loses the answer of the lost-answer card once; lookup then tells the charge', async () => {
    const key = newKey()
    expect(await charge(key, CARDS.lostAnswer)).toMatchObject({ kind: 'unknown' })
    const found = await sandbox.lookup({ key })
    expect(found).toMatchObject({ kind: 'succeeded', card: { last4: CARDS.lostAnswer.slice(-4) } })
    expect(await rowsFor(key)).toHaveLength(1)
  })

  it('answers not_found for a key it never saw, and cancel closes the key for good', async () => {
    const key = newKey()
    expect(await sandbox.lookup({ key })).toEqual({ kind: 'not_found' })
    expect(await sandbox.cancel({ key })).toMatchObject({ kind: 'failed', failureCode: 'processing_error', processorCode: 'cancelled' })
    // A charge that arrives after the cancel cannot land.
    expect(await charge(key, CARDS.visa)).toMatchObject({ kind: 'failed', processorCode: 'cancelled' })
  })

  it('keeps a charge that got there before the cancel', async () => {
    const key = newKey()
    const charged = await charge(key, CARDS.visa)
    expect(await sandbox.cancel({ key })).toEqual(charged)
  })

  it('declines a challenge still waiting when it is cancelled', async () => {
    const key = newKey()
    expect(await charge(key, CARDS.challenge)).toMatchObject({ kind: 'challenge' })
    expect(await sandbox.cancel({ key })).toMatchObject({ kind: 'failed', failureCode: 'authentication_failed' })
  })
})

describe('sandbox: refunds and saved cards', () => {
  it('refunds at once, once per refund key', async () => {
    const key = newKey()
    await charge(key, CARDS.visa)
    const first = await sandbox.refund({ ref: { key }, refundKey: `re_${randomBase32(24)}`, amountMinor: 500, currency: 'USD' })
    expect(first).toMatchObject({ kind: 'succeeded' })
    const refundKey = `re_${randomBase32(24)}`
    const a = await sandbox.refund({ ref: { key }, refundKey, amountMinor: 200, currency: 'USD' })
    expect(await sandbox.refund({ ref: { key }, refundKey, amountMinor: 200, currency: 'USD' })).toEqual(a)
    expect(a).not.toEqual(first)
  })

  it('fails the refunds of the refund-failing card as processing_error', async () => {
    const key = newKey()
    expect(await charge(key, CARDS.refundFails)).toMatchObject({ kind: 'succeeded' })
    expect(await sandbox.refund({ ref: { key }, refundKey: `re_${randomBase32(24)}`, amountMinor: 1250, currency: 'USD' })).toMatchObject({ kind: 'failed', failureCode: 'processing_error' })
  })

  it('cannot charge a saved card once it is deleted', async () => {
    const saved = await charge(newKey(), CARDS.visa, true)
    const token = saved.kind === 'succeeded' ? saved.savedCard!.token : ''
    const reuse = (key: string) => sandbox.authorize(attempt(key), { amountMinor: 100, currency: 'USD', savedCard: { token }, returnUrl: 'http://localhost/return' })
    expect(await reuse(newKey())).toMatchObject({ kind: 'succeeded' })
    await sandbox.deleteSavedCard({ token, shopperReference: 'usr_1' })
    expect(await reuse(newKey())).toMatchObject({ kind: 'failed', failureCode: 'processing_error' })
  })
})
