/**
 * Saved cards. We keep the processor's reusable token sealed (AES-256-GCM under
 * DATA_ENCRYPTION_KEY, bound to the card's row), the brand, last four and expiry, and a
 * keyed fingerprint — an HMAC of the number under a key derived from DATA_ENCRYPTION_KEY —
 * so the same card saved twice stays one card. Never the number, never the CVC.
 * A deleted card is neither listed nor chargeable, and is deleted at the processor too
 * (Stripe detaches the PaymentMethod, Adyen deletes the stored payment method).
 */
import type { Repositories, Store } from '../../storage/store.js'
import type { Clock } from '../shared/clock.js'
import { hmacSha256, type Sealer } from '../shared/crypto.js'
import { notFound } from '../shared/errors.js'
import { newId, type AccountId, type CardId, type TenantId, type UserId } from '../shared/ids.js'
import type { ProcessorSet } from '../../processors/registry.js'

export interface SavedCard {
  id: CardId
  userId: UserId
  accountId: AccountId
  brand: string
  last4: string
  expMonth: number
  expYear: number
  createdAt: Date
}

/** What sealed a card's token is bound to: it opens only as that card's. */
export const tokenContext = (tenantId: string, cardId: string) => `card:${tenantId}:${cardId}`

const FINGERPRINT_KEY = 'card_fingerprint'
/** What a kept key is sealed to. */
export const keptKeyContext = (name: string) => `kept_key:${name}`

export class SavedCardService {
  private fingerprintKey: Buffer | undefined

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly sealer: Sealer,
    private readonly encryptionKey: Buffer,
    private readonly processors: ProcessorSet,
    private readonly onProcessorError: (err: unknown) => void = () => {},
  ) {}

  /**
   * Loads the fingerprint key, kept sealed in the database so that it outlives a rotation of
   * DATA_ENCRYPTION_KEY (the first start keeps the one derived from the key of the day, which
   * is what fingerprints were made with before).
   */
  async init(): Promise<void> {
    const derived = hmacSha256(this.encryptionKey, 'paylink card fingerprint v1')
    const sealed = await this.store.keptKeys.getOrKeep(FINGERPRINT_KEY, this.sealer.seal(derived, keptKeyContext(FINGERPRINT_KEY)), this.clock.now())
    this.fingerprintKey = this.sealer.open(sealed, keptKeyContext(FINGERPRINT_KEY))
  }

  fingerprint(tenantId: string, digits: string): string {
    if (!this.fingerprintKey) throw new Error('SavedCardService.init() was not called')
    return hmacSha256(this.fingerprintKey, `${tenantId}:${digits}`).toString('base64url')
  }

  /** The cards a user can pay with on one account. */
  listFor(tenantId: string, userId: string, accountId: string): Promise<SavedCard[]> {
    return this.store.savedCards.listForPayment(tenantId as TenantId, userId as UserId, accountId as AccountId)
  }

  async listForUser(tenantId: TenantId, userId: UserId): Promise<SavedCard[]> {
    const cards = await this.store.savedCards.listForUser(tenantId, userId)
    if (!cards) throw notFound('user')
    return cards
  }

  /**
   * Deletes the card: at once in paylink (never listed or charged again), then at the
   * processor. When the processor cannot be reached, the deletion in paylink stands (the
   * token can no longer be used through paylink) and the error is reported to the operator.
   */
  async delete(tenantId: TenantId, userId: UserId, cardId: CardId): Promise<SavedCard> {
    const deleted = await this.store.savedCards.delete(tenantId, userId, cardId, this.clock.now())
    if (!deleted) throw notFound('card')
    const { card } = deleted
    try {
      const account = await this.store.accounts.processorOf(tenantId, card.accountId)
      if (account) {
        const token = this.sealer.open(deleted.sealedToken, tokenContext(tenantId, card.id)).toString('utf8')
        const adapter = await this.processors.forAccount({ accountId: card.accountId, ...account })
        await adapter.deleteSavedCard({ token, shopperReference: userId, ...(deleted.customerRef ? { customerRef: deleted.customerRef } : {}) })
      }
    } catch (err) {
      this.onProcessorError(err)
    }
    return card
  }

  /** The card and its decrypted processor token, if the user may pay with it on this account. */
  async tokenFor(tenantId: string, cardId: string, userId: string, accountId: string): Promise<{ card: SavedCard; token: string; customerRef: string | null } | undefined> {
    const found = await this.store.savedCards.findWithToken(tenantId as TenantId, cardId as CardId, userId as UserId, accountId as AccountId)
    if (!found) return undefined
    return { card: found.card, token: this.sealer.open(found.sealedToken, tokenContext(tenantId, found.card.id)).toString('utf8'), customerRef: found.customerRef }
  }

  /** The processor's customer for this user at this account, when a card was saved there before. */
  customerRef(tenantId: TenantId, userId: UserId, accountId: AccountId): Promise<string | undefined> {
    return this.store.savedCards.customerRef(tenantId, userId, accountId)
  }

  /**
   * Saves a card in the caller's transaction. The same card (same fingerprint) for the
   * same user and account is one card: its token and expiry are refreshed, its id kept.
   */
  async save(
    tx: Repositories,
    input: {
      tenantId: TenantId
      userId: UserId
      accountId: AccountId
      fingerprint: string
      token: string
      customerRef: string | null
      brand: string
      last4: string
      expMonth: number
      expYear: number
    },
  ): Promise<CardId> {
    const { tenantId, userId, accountId, fingerprint } = input
    const existing = await tx.savedCards.idByFingerprint(tenantId, userId, accountId, fingerprint, { forUpdate: true })
    if (existing) {
      await tx.savedCards.refreshToken(tenantId, existing, this.sealer.seal(input.token, tokenContext(tenantId, existing)), input.customerRef, input.expMonth, input.expYear)
      return existing
    }
    const id = newId('card')
    const inserted = await tx.savedCards.insert(tenantId, {
      id,
      userId,
      accountId,
      sealedToken: this.sealer.seal(input.token, tokenContext(tenantId, id)),
      customerRef: input.customerRef,
      fingerprint,
      brand: input.brand,
      last4: input.last4,
      expMonth: input.expMonth,
      expYear: input.expYear,
      createdAt: this.clock.now(),
    })
    if (inserted) return id
    // Saved by a concurrent payment a moment ago: that row is the card.
    return (await tx.savedCards.idByFingerprint(tenantId, userId, accountId, fingerprint))!
  }
}
