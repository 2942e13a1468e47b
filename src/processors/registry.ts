/**
 * Card processors are adapters registered by name; the core names none of them and
 * reaches them only through a `ProcessorSet` (one per process, built by the composition
 * root). The built-in adapters register themselves when `./builtins.ts` is imported (the
 * composition root does it once); their factories receive what they may use: the sandbox
 * keeps its simulated ledger in the database, through its own storage module.
 */
import type { Db } from '../storage/db.js'
import type { Clock } from '../domain/shared/clock.js'
import type { CardProcessor } from './card-processor.js'

export interface ProcessorInfo {
  name: string
  autoApprove: boolean
}

export interface ProcessorDeps {
  db: Db
  clock: Clock
}

type Factory = ProcessorInfo & { create?: (deps: ProcessorDeps) => CardProcessor }

const registered = new Map<string, Factory>()

export const processorInfo = (name: string): ProcessorInfo | undefined => registered.get(name)
export const processorNames = (): string[] => [...registered.keys()]

/** Registers an adapter (or, without `create`, a processor known by name only). */
export function registerProcessor(factory: Factory) {
  registered.set(factory.name, factory)
}

/** Processors made for one app instance, each once. */
export class ProcessorSet {
  private readonly made = new Map<string, CardProcessor>()
  constructor(private readonly deps: ProcessorDeps) {}
  get(name: string): CardProcessor {
    let p = this.made.get(name)
    if (!p) {
      const f = registered.get(name)
      if (!f?.create) throw new Error(`No adapter for processor "${name}".`)
      p = f.create(this.deps)
      this.made.set(name, p)
    }
    return p
  }
}
