/**
 * Saved cards through real HTTP: saving one when a payment succeeds, offering it on the
 * next link of the same user and account, paying with it in one click, deleting it, and
 * keeping other tenants out. Then the search of every table and every log line for card
 * numbers, CVCs, link tokens and session secrets.
 * SPEC sections "Saved cards", "Links and payment intents" (confirm), "Sandbox test cards";
 * issue 3 item 5.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CARDS,
  EXP_YEAR,
  NOT_LUHN,
  TEST_CARD_NUMBERS,
  addPayer,
  answerChallenge,
  chargesFor,
  confirm as confirmPage,
  intentOf,
  newCard,
  openLink,
  setupPayer,
  spaced,
  startServer,
  type Payer,
  type TestServer,
} from '../helpers/index.js'

let server: TestServer
/** The file's tenant; each test pays as a new user of it, so saved cards never mix. */
let shop: Payer
/** Every line the app logs in this file (level debug and up). */
const logs: string[] = []
beforeAll(async () => {
  server = await startServer({}, { logs })
  shop = await setupPayer(server)
})
afterAll(() => server.close())

const YY = String(EXP_YEAR).slice(-2)

/** A new user of the tenant (the file's shop unless told), enrolled in its sandbox account. */
const newPayer = (payer: Payer = shop) => addPayer(payer, { name: 'Second Payer' })

/** Every confirm answer's raw text, for the search at the end. */
const answers: string[] = []
const confirm = async (link: { payUrl: string; session: string }, body: unknown) => {
  const r = await confirmPage(link.payUrl, link.session, body)
  answers.push(r.text)
  return r
}
const answer = (link: { payUrl: string; session: string }, what: 'approve' | 'decline') => answerChallenge(link.payUrl, link.session, what)

/** A new card in Ada Lovelace's name, with a CVC distinctive enough to search for. */
const adaCard = (number: string, cvc = number.replace(/\D/g, '').startsWith('37') ? '7373' : '737', extra: Record<string, unknown> = {}) => newCard(number, { cvc, name: 'Ada Lovelace', ...extra })

const cardsOf = async (payer: Payer) => {
  const r = await payer.api.get(`/v1/platform/users/${payer.userId}/cards`)
  expect(r.status).toBe(200)
  return r.body.data as Array<Record<string, unknown>>
}
/** The saved cards the page offers: [card id, the words shown]. */
const offered = (html: string) =>
  [...html.matchAll(/<input type="radio" name="source" value="(card_[^"]+)"[^>]*>\s*<span>([^<]*)<\/span>/g)].map((m) => [m[1], m[2]!.replace(/&#39;/g, "'").replace(/&amp;/g, '&')])

/** Pays a new link of `payer` with 4242 4242 4242 4242 and save_card, and returns the saved card's id. */
async function saveVisa(payer: Payer) {
  const link = await openLink(payer)
  const paid = await confirm(link, { card: adaCard(spaced(CARDS.visa)), save_card: true })
  expect(paid.body.data).toMatchObject({ status: 'succeeded', saved_card_id: expect.stringMatching(/^card_/) })
  return paid.body.data.saved_card_id as string
}

describe('a card is saved when save_card is set and the payment succeeds', () => {
  it('answers with saved_card_id, and the user\'s cards list it with brand, last four and expiry', async () => {
    const payer = await newPayer()
    const link = await openLink(payer)
    const paid = await confirm(link, { card: adaCard(spaced(CARDS.mastercard)), save_card: true })
    expect(paid.status).toBe(200)
    const cardId = paid.body.data.saved_card_id
    expect(cardId).toMatch(/^card_/)
    expect(await intentOf(payer, link.intentId)).toMatchObject({ status: 'succeeded', saved_card_id: cardId })
    expect(await cardsOf(payer)).toEqual([
      {
        id: cardId,
        object: 'card',
        user_id: payer.userId,
        card_processing_id: payer.accountId,
        brand: 'mastercard',
        last4: '4444',
        exp_month: 12,
        exp_year: EXP_YEAR,
        created_at: expect.any(String),
      },
    ])
  })

  it('saves nothing when the box is left unchecked', async () => {
    const payer = await newPayer()
    const absent = await confirm(await openLink(payer), { card: adaCard(spaced(CARDS.visa)) })
    const unchecked = await confirm(await openLink(payer), { card: adaCard(spaced(CARDS.visa)), save_card: false })
    for (const r of [absent, unchecked]) expect(r.body.data).toMatchObject({ status: 'succeeded', saved_card_id: null })
    expect(await cardsOf(payer)).toEqual([])
  })

  it('saves nothing when the payment fails', async () => {
    const payer = await newPayer()
    for (const number of [spaced(CARDS.declined), spaced(CARDS.insufficientFunds)]) {
      const r = await confirm(await openLink(payer), { card: adaCard(number), save_card: true })
      expect(r.body.data).toMatchObject({ status: 'failed', saved_card_id: null })
    }
    expect(await cardsOf(payer)).toEqual([])
  })

  it('saves the same card twice as one card, and a different card as another', async () => {
    const payer = await newPayer()
    const first = await saveVisa(payer)
    const again = await confirm(await openLink(payer), { card: adaCard(CARDS.visa, '373', { name: 'A. Lovelace' }), save_card: true })
    expect(again.body.data.saved_card_id).toBe(first)
    const other = await confirm(await openLink(payer), { card: adaCard(spaced(CARDS.amex)), save_card: true })
    expect(other.body.data.saved_card_id).toMatch(/^card_/)
    expect(other.body.data.saved_card_id).not.toBe(first)
    const cards = await cardsOf(payer)
    expect(cards.map((c) => [c.id, c.brand, c.last4]).sort()).toEqual(
      [
        [first, 'visa', '4242'],
        [other.body.data.saved_card_id, 'amex', '0005'],
      ].sort(),
    )
  })

  it('saves a 3-D Secure card once the challenge is approved, and not when it is declined', async () => {
    const payer = await newPayer()
    const declined = await openLink(payer)
    expect((await confirm(declined, { card: adaCard(spaced(CARDS.challenge)), save_card: true })).body.data.status).toBe('requires_authentication')
    expect((await answer(declined, 'decline')).body.data).toMatchObject({ status: 'failed', failure_code: 'authentication_failed', saved_card_id: null })
    expect(await cardsOf(payer)).toEqual([])

    const approved = await openLink(payer)
    expect((await confirm(approved, { card: adaCard(spaced(CARDS.challenge)), save_card: true })).body.data.status).toBe('requires_authentication')
    const done = await answer(approved, 'approve')
    expect(done.body.data).toMatchObject({ status: 'succeeded', saved_card_id: expect.stringMatching(/^card_/) })
    expect((await cardsOf(payer)).map((c) => [c.id, c.last4])).toEqual([[done.body.data.saved_card_id, '3184']])
  })
})

describe('a later link for the same user and account offers the saved card and pays with it in one click', () => {
  it('shows the card on the page and charges it with only saved_card_id', async () => {
    const payer = await newPayer()
    const cardId = await saveVisa(payer)
    const link = await openLink(payer)
    expect(offered(link.html)).toEqual([[cardId, `Visa ending in 4242, expires 12/${YY}`]])
    const paid = await confirm(link, { saved_card_id: cardId })
    expect(paid.status).toBe(200)
    expect(paid.body.data).toMatchObject({ payment_intent_id: link.intentId, status: 'succeeded', card: { brand: 'visa', last4: '4242' }, saved_card_id: cardId })
    expect(await intentOf(payer, link.intentId)).toMatchObject({
      status: 'succeeded',
      saved_card_id: cardId,
      card: { brand: 'visa', last4: '4242', exp_month: 12, exp_year: EXP_YEAR },
    })
    expect(await chargesFor(server, link.intentId)).toBe(1)
  })

  it('neither shows nor takes the card on a link of another user, or of another account of the same user', async () => {
    const payer = await newPayer()
    const cardId = await saveVisa(payer)
    const account = await server.services.tenants.createAccount(payer.tenant.tenantId, { name: 'Second sandbox', processor: 'sandbox', currencies: ['USD'] })
    const enrol = await payer.api.post(`/v1/platform/card-processing/users/${payer.userId}`, { card_processing_id: account.id })
    expect(enrol.status).toBe(201)
    const links = [await openLink(await newPayer()), await openLink(payer, { card_processing_id: account.id })]
    for (const link of links) {
      expect(offered(link.html)).toEqual([])
      const r = await confirm(link, { saved_card_id: cardId })
      expect(r.status).toBe(422)
      expect(r.body.error.details.map((d: { field: string }) => d.field)).toEqual(['saved_card_id'])
      expect(await chargesFor(server, link.intentId)).toBe(0)
      expect((await confirm(link, { card: adaCard(spaced(CARDS.visa)) })).body.data.status).toBe('succeeded')
    }
  })

  it('refuses saved_card_id together with a new card or save_card', async () => {
    const payer = await newPayer()
    const cardId = await saveVisa(payer)
    const link = await openLink(payer)
    expect((await confirm(link, { saved_card_id: cardId, card: adaCard(spaced(CARDS.visa)) })).status).toBe(422)
    expect((await confirm(link, { saved_card_id: cardId, save_card: true })).status).toBe(422)
    expect(await chargesFor(server, link.intentId)).toBe(0)
    expect((await confirm(link, { saved_card_id: cardId })).body.data.status).toBe('succeeded')
  })
})

describe('a deleted card is neither shown nor chargeable', () => {
  it('DELETE removes it from the list and the page, and a confirm with it is a 422 that consumes nothing', async () => {
    const payer = await newPayer()
    const cardId = await saveVisa(payer)
    const openedBefore = await openLink(payer)
    expect(offered(openedBefore.html).map(([id]) => id)).toEqual([cardId])

    const deleted = await payer.api.delete(`/v1/platform/users/${payer.userId}/cards/${cardId}`)
    expect(deleted.status).toBe(200)
    expect(deleted.body.data).toMatchObject({ id: cardId, object: 'card', last4: '4242' })
    expect(await cardsOf(payer)).toEqual([])
    const openedAfter = await openLink(payer)
    expect(offered(openedAfter.html)).toEqual([])
    expect(openedAfter.html).not.toContain(cardId)

    for (const link of [openedBefore, openedAfter]) {
      const r = await confirm(link, { saved_card_id: cardId })
      expect(r.status).toBe(422)
      expect(r.body.error.details.map((d: { field: string }) => d.field)).toEqual(['saved_card_id'])
      expect(await chargesFor(server, link.intentId)).toBe(0)
      expect((await intentOf(payer, link.intentId)).status).toBe('pending')
    }
    expect((await confirm(openedBefore, { card: adaCard(spaced(CARDS.mastercard)) })).body.data.status).toBe('succeeded')
    expect((await payer.api.delete(`/v1/platform/users/${payer.userId}/cards/${cardId}`)).status).toBe(404)
  })

  it("is a 404 under another user's path, and the card stays", async () => {
    const payer = await newPayer()
    const cardId = await saveVisa(payer)
    const other = await newPayer()
    const r = await payer.api.delete(`/v1/platform/users/${other.userId}/cards/${cardId}`)
    expect(r.status).toBe(404)
    expect(r.body.error.code).toBe('not_found')
    expect((await cardsOf(payer)).map((c) => c.id)).toEqual([cardId])
  })
})

describe("another tenant's users and cards are not found", () => {
  it('answers 404 for their user\'s cards and for deleting their card, and leaves the card alone', async () => {
    const owner = await newPayer()
    const cardId = await saveVisa(owner)
    const stranger = await setupPayer(server)
    for (const r of [
      await stranger.api.get(`/v1/platform/users/${owner.userId}/cards`),
      await stranger.api.delete(`/v1/platform/users/${owner.userId}/cards/${cardId}`),
      await stranger.api.delete(`/v1/platform/users/${stranger.userId}/cards/${cardId}`),
    ]) {
      expect(r.status).toBe(404)
      expect(r.body.error.code).toBe('not_found')
    }
    const theirLink = await openLink(stranger)
    expect((await confirm(theirLink, { saved_card_id: cardId })).status).toBe(422)
    expect((await cardsOf(owner)).map((c) => c.id)).toEqual([cardId])
    expect((await confirm(await openLink(owner), { saved_card_id: cardId })).body.data.status).toBe('succeeded')
  })
})

describe('no card number, CVC, link token or session secret is kept anywhere', () => {
  // Distinctive CVCs, searched as whole numbers (not inside ids, timestamps or decimals).
  const CVC3 = '737'
  const CVC4 = '7373'
  const TEST_CARDS = TEST_CARD_NUMBERS.map(spaced)

  it('pays with every test card (some saved, one by 3-D Secure), then finds none in any table row or log line', async () => {
    const payer = await newPayer()
    const secrets: string[] = []
    let saved: string | undefined
    for (const [i, typed] of TEST_CARDS.entries()) {
      const link = await openLink(payer)
      secrets.push(link.token, link.session)
      // Half typed with spaces as the page shows them, half as bare digits.
      const number = i % 2 ? typed.replace(/ /g, '') : typed
      const r = await confirm(link, { card: adaCard(number, typed.startsWith('37') ? CVC4 : CVC3), save_card: i % 3 !== 1 })
      expect(r.status).toBe(200)
      if (r.body.data.status === 'requires_authentication') expect((await answer(link, 'approve')).body.data.status).toBe('succeeded')
      if (typed.startsWith('4242')) saved = r.body.data.saved_card_id
    }
    // Refused confirms carry card data too: a bad number, a bad CVC, an unknown field next to a good card.
    const refused = await openLink(payer)
    secrets.push(refused.token, refused.session)
    expect((await confirm(refused, { card: adaCard(spaced(NOT_LUHN), CVC3) })).status).toBe(422)
    expect((await confirm(refused, { card: adaCard(spaced(CARDS.amex), CVC3) })).status).toBe(422)
    expect((await confirm(refused, { card: adaCard(spaced(CARDS.mastercard), CVC3), amount: 1 })).status).toBe(422)
    expect((await confirm(refused, { card: { ...adaCard(spaced(CARDS.mastercard), CVC3), exp_month: '12' } })).status).toBe(422)
    expect(saved).toMatch(/^card_/)
    expect((await confirm(refused, { saved_card_id: saved })).body.data.status).toBe('succeeded')

    const tables = await server.db.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name')
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['payment_intents', 'saved_cards', 'sandbox_charges', 'sandbox_vault']))
    const rows: string[] = []
    for (const { table_name } of tables) {
      for (const row of await server.db.query(`SELECT * FROM "${table_name.replace(/"/g, '""')}"`)) rows.push(`${table_name} ${JSON.stringify(row)}`)
    }
    // The search looks where the data is: our cards in the rows, the calls to /pay in the logs.
    expect(rows.some((r) => r.startsWith('saved_cards ') && r.includes(saved!) && r.includes('"4242"'))).toBe(true)
    expect(logs.filter((l) => l.includes('/pay/[token]/confirm')).length).toBeGreaterThanOrEqual(TEST_CARDS.length)

    // A number as typed, as bare digits, or with any spaces or dashes; a CVC as a whole number.
    const asNumber = (n: string) => new RegExp(n.replace(/ /g, '').split('').join('[\\s-]*'))
    const asWhole = (cvc: string) => new RegExp(`(?<![\\w.])${cvc}(?!\\w)`)
    const forbidden: Array<[string, (line: string) => boolean]> = [
      ...[...TEST_CARDS, spaced(NOT_LUHN)].map((n): [string, (line: string) => boolean] => [n, (line) => asNumber(n).test(line)]),
      ...[CVC3, CVC4].map((c): [string, (line: string) => boolean] => [`CVC ${c}`, (line) => asWhole(c).test(line)]),
      ...secrets.map((s): [string, (line: string) => boolean] => [`link token or session ${s.slice(0, 6)}…`, (line) => line.includes(s)]),
    ]
    const found = (where: string[]) => forbidden.flatMap(([what, has]) => where.filter(has).map((line) => `${what} in ${line.slice(0, 300)}`))
    expect(found(rows)).toEqual([])
    expect(found(logs)).toEqual([])
    // Nor in what confirm answers (errors included): only what the page already showed.
    expect(found(answers)).toEqual([])
  })
})
