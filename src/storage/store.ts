/**
 * The storage layer's one entrance. Every SQL statement of paylink lives below
 * `src/storage/`, in a repository per aggregate; the domain sees only these classes.
 *
 * Conventions (read `docs/ARCHITECTURE.md`):
 * - every finder of tenant data takes the `TenantId` first; the few that cross tenants on
 *   purpose say so in their names (`…AcrossTenants`, `…ByLinkToken`), so grep finds them;
 * - statements on hot paths are declared once with `sql(name, text)` (named prepared
 *   statements on PostgreSQL);
 * - ids come from `newId` (src/domain/shared/ids.ts), never from the database;
 * - rows become domain objects here: no row leaves the storage layer.
 *
 * `store.transaction(fn)` hands `fn` the same repositories bound to one transaction.
 */
import type { Db, Queryable } from './db.js'
import { AccountRepository } from './repositories/accounts.js'
import { IdempotencyRepository } from './repositories/idempotency.js'
import { PaymentIntentRepository } from './repositories/payment-intents.js'
import { SavedCardRepository } from './repositories/saved-cards.js'
import { SigningKeyRepository } from './repositories/signing-keys.js'
import { TenantRepository } from './repositories/tenants.js'
import { UserRepository } from './repositories/users.js'
import { WebhookRepository } from './repositories/webhooks.js'

export interface Repositories {
  /** Tenants and their OAuth clients. */
  readonly tenants: TenantRepository
  readonly signingKeys: SigningKeyRepository
  readonly users: UserRepository
  /** Card-processing accounts and enrolments. */
  readonly accounts: AccountRepository
  readonly intents: PaymentIntentRepository
  readonly savedCards: SavedCardRepository
  /** Endpoints, events and deliveries (the outbox). */
  readonly webhooks: WebhookRepository
  readonly idempotency: IdempotencyRepository
}

export interface Store extends Repositories {
  readonly kind: Db['kind']
  /** Runs `fn` in one transaction with repositories bound to it: commit when it resolves, roll back when it throws. */
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>
  /** PostgreSQL only: see `Db.listen`. */
  readonly listen?: Db['listen']
  /** PostgreSQL only: see `Db.notify`. */
  readonly notify?: Db['notify']
}

const REPOSITORIES = {
  tenants: TenantRepository,
  signingKeys: SigningKeyRepository,
  users: UserRepository,
  accounts: AccountRepository,
  intents: PaymentIntentRepository,
  savedCards: SavedCardRepository,
  webhooks: WebhookRepository,
  idempotency: IdempotencyRepository,
} as const

/** Repositories over one connection or transaction, each made when first used (a transaction uses two or three). */
export function repositoriesOn(q: Queryable): Repositories {
  const made: Partial<Record<keyof Repositories, unknown>> = {}
  const repos = {} as Repositories
  for (const [name, Repository] of Object.entries(REPOSITORIES) as [keyof Repositories, new (q: Queryable) => unknown][]) {
    Object.defineProperty(repos, name, { enumerable: true, get: () => (made[name] ??= new Repository(q)) })
  }
  return repos
}

export function createStore(db: Db): Store {
  const store = repositoriesOn(db) as Store & { kind: Db['kind'] }
  Object.defineProperty(store, 'kind', { value: db.kind, enumerable: true })
  Object.defineProperty(store, 'transaction', { value: <T>(fn: (tx: Repositories) => Promise<T>) => db.transaction((tx) => fn(repositoriesOn(tx))) })
  if (db.listen) Object.defineProperty(store, 'listen', { value: db.listen.bind(db) })
  if (db.notify) Object.defineProperty(store, 'notify', { value: db.notify.bind(db) })
  return store
}
