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
import { PortalRepository } from './repositories/portal.js'
import { ProcessorEventRepository } from './repositories/processor-events.js'
import { RefundRepository } from './repositories/refunds.js'
import { KeptKeyRepository } from './repositories/kept-keys.js'
import { SealedValueRepository } from './repositories/sealed-values.js'
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
  /** The processors' webhook events, kept once. */
  readonly processorEvents: ProcessorEventRepository
  readonly refunds: RefundRepository
  readonly keptKeys: KeptKeyRepository
  /** Every sealed column, for re-encryption under a new DATA_ENCRYPTION_KEY. */
  readonly sealedValues: SealedValueRepository
  /** Portal links and sessions, the at-a-glance figures, a payment's timeline. */
  readonly portal: PortalRepository
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
  processorEvents: ProcessorEventRepository,
  refunds: RefundRepository,
  keptKeys: KeptKeyRepository,
  sealedValues: SealedValueRepository,
  portal: PortalRepository,
} as const satisfies { [K in keyof Repositories]: new (q: Queryable) => Repositories[K] }

/**
 * Repositories over one connection or transaction, each made when first used (a transaction
 * uses two or three). The getters are defined once, on the prototype, from the table above:
 * one shape for every instance, nothing made per call but the object itself.
 */
class BoundRepositories {
  protected readonly made: Partial<Record<keyof Repositories, unknown>> = {}
  constructor(protected readonly q: Queryable) {}
}
interface BoundRepositories extends Repositories {}
for (const [name, Repository] of Object.entries(REPOSITORIES) as [keyof Repositories, new (q: Queryable) => unknown][]) {
  Object.defineProperty(BoundRepositories.prototype, name, {
    get(this: BoundRepositories) {
      return (this.made[name] ??= new Repository(this.q))
    },
  })
}

export const repositoriesOn = (q: Queryable): Repositories => new BoundRepositories(q)

class DbStore extends BoundRepositories implements Store {
  readonly kind: Db['kind']
  readonly listen?: Db['listen']
  readonly notify?: Db['notify']
  constructor(private readonly db: Db) {
    super(db)
    this.kind = db.kind
    if (db.listen) this.listen = db.listen.bind(db)
    if (db.notify) this.notify = db.notify.bind(db)
  }
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(new BoundRepositories(tx)))
  }
}

export const createStore = (db: Db): Store => new DbStore(db)
