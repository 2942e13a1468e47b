/**
 * Card processors are adapters registered by name; the core names none of them and
 * reaches them only through a `ProcessorSet` (one per process, built by the composition
 * root). The built-in adapters register themselves when `./builtins.ts` is imported (the
 * composition root does it once).
 *
 * An adapter is made per account configuration: credentials differ per account, and the
 * SDK clients hold them. The set keeps one instance per (account, sealed configuration), so
 * rotating an account's credentials (`account update --config`) takes effect at the next
 * call without a restart.
 */
import type { Db } from '../storage/db.js'
import type { Clock } from '../domain/shared/clock.js'
import type { Sealer } from '../domain/shared/crypto.js'
import type { CardProcessor } from './card-processor.js'

/** What an adapter factory may use besides the account's configuration. */
export interface ProcessorDeps {
  /** The sandbox keeps its simulated ledger in the database, through its own storage module. */
  db: Db
  clock: Clock
  /** How long one call to a processor may take before its outcome is `unknown`. */
  timeoutMs: number
}

/** A problem with an account's configuration, naming the key. */
export interface ConfigProblem {
  key: string
  issue: string
}

export interface ProcessorFactory {
  name: string
  /** Enrolments in accounts of this processor are approved at once (the sandbox); real ones wait for the operator. */
  autoApprove: boolean
  /** Its adapters implement `prepare`: the page asks for it when it opens (the others' page loads skip it without making the adapter). */
  prepares?: boolean
  /** Checks a configuration against the adapter's schema; an empty list means it is usable. */
  checkConfig(config: unknown): ConfigProblem[]
  /** Makes the adapter; may load its SDK now (an SDK is loaded only by a process that uses it). */
  create(config: Record<string, unknown>, deps: ProcessorDeps): CardProcessor | Promise<CardProcessor>
}

const registered = new Map<string, ProcessorFactory>()

export const processorInfo = (name: string): ProcessorFactory | undefined => registered.get(name)
export const processorNames = (): string[] => [...registered.keys()]

export function registerProcessor(factory: ProcessorFactory) {
  registered.set(factory.name, factory)
}

/** An account as the set needs it: its processor and its configuration, sealed as stored. */
export interface AccountProcessor {
  accountId: string
  processor: string
  configSealed: string | null
}

/** The additional data a sealed account configuration is bound to. */
export const configContext = (accountId: string) => `account:${accountId}`

/** The adapters of one process, one per account configuration. */
export class ProcessorSet {
  private readonly made = new Map<string, { sealed: string | null; adapter: Promise<CardProcessor> }>()
  constructor(
    private readonly deps: ProcessorDeps,
    private readonly sealer: Sealer,
  ) {}

  forAccount(account: AccountProcessor): Promise<CardProcessor> {
    const known = this.made.get(account.accountId)
    if (known && known.sealed === account.configSealed) return known.adapter
    const factory = registered.get(account.processor)
    if (!factory) return Promise.reject(new Error(`No adapter for processor "${account.processor}".`))
    const config = account.configSealed ? (JSON.parse(this.sealer.open(account.configSealed, configContext(account.accountId)).toString('utf8')) as Record<string, unknown>) : {}
    const adapter = Promise.resolve(factory.create(config, this.deps))
    this.made.set(account.accountId, { sealed: account.configSealed, adapter })
    // A factory that failed is asked again next time.
    adapter.catch(() => this.made.delete(account.accountId))
    return adapter
  }
}
