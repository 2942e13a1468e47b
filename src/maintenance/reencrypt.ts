/**
 * `paylink reencrypt`: moves every sealed value (signing keys, kept keys, saved-card tokens,
 * webhook secrets, processor credentials, idempotent answers, pending 3-D Secure forms) from
 * DATA_ENCRYPTION_KEY_PREVIOUS to DATA_ENCRYPTION_KEY. Page by page, in key order, each value
 * replaced only if it is still the one read: safe while paylink runs (it reads both keys, and
 * writes new values under the current one), and resumable (a value under the current key
 * already is left alone). When it reports nothing left under the previous key, that key can
 * be dropped.
 */
import type { Store } from '../storage/store.js'
import { SEALED_COLUMNS, type SealedColumn } from '../storage/repositories/sealed-values.js'
import type { Sealer } from '../domain/shared/crypto.js'
import { keptKeyContext, tokenContext } from '../domain/cards/saved-cards.js'
import { secretContext } from '../domain/webhooks/signing.js'
import { configContext } from '../processors/registry.js'
import { idempotencyContext } from '../http/idempotency.js'
import { redirectContext } from '../domain/payments/checkout.js'
import { signingKeyContext } from '../domain/oauth/keys.js'

/** What each kind of value is sealed to, from its row's key. */
const CONTEXT: Record<SealedColumn['kind'], (key: string[]) => string> = {
  signing_key: ([kid]) => signingKeyContext(kid!),
  kept_key: ([name]) => keptKeyContext(name!),
  saved_card: ([tenant, id]) => tokenContext(tenant!, id!),
  webhook_secret: ([tenant, id]) => secretContext(tenant!, id!),
  account_config: ([, id]) => configContext(id!),
  idempotent_answer: ([tenant, key]) => idempotencyContext(tenant!, key!),
  redirect: ([, id]) => redirectContext(id!),
}

export interface ReencryptReport {
  /** Per table.column: moved to the current key, already under it, and opened by neither key. */
  columns: { column: string; resealed: number; current: number; unreadable: number }[]
}

export async function reencrypt(store: Store, sealer: Sealer, batch = 200): Promise<ReencryptReport> {
  const columns: ReencryptReport['columns'] = []
  for (const c of SEALED_COLUMNS) {
    const tally = { column: `${c.table}.${c.column}`, resealed: 0, current: 0, unreadable: 0 }
    let after: string[] | null = null
    for (;;) {
      const rows = await store.sealedValues.page(c, after, batch)
      for (const row of rows) {
        let next: string | undefined
        try {
          next = sealer.reseal(row.sealed, CONTEXT[c.kind](row.key))
        } catch {
          tally.unreadable++
          continue
        }
        if (next === undefined) tally.current++
        else if (await store.sealedValues.replace(c, row.key, row.sealed, next)) tally.resealed++
        else tally.current++ // changed meanwhile: written under the current key
      }
      if (rows.length < batch) break
      after = rows[rows.length - 1]!.key
    }
    columns.push(tally)
  }
  return { columns }
}
