/** A small argument parser: positional words, `--flag value`, repeated flags, boolean flags. */
export interface Parsed {
  words: string[]
  flags: Map<string, string[]>
}

export function parseArgs(argv: string[], booleans: ReadonlySet<string>): Parsed {
  const words: string[] = []
  const flags = new Map<string, string[]>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith('--')) {
      words.push(a)
      continue
    }
    const eq = a.indexOf('=')
    const name = a.slice(2, eq < 0 ? undefined : eq)
    let value: string
    if (eq >= 0) value = a.slice(eq + 1)
    else if (booleans.has(name)) value = 'true'
    else {
      const next = argv[i + 1]
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name} needs a value`)
      value = next
      i++
    }
    flags.set(name, [...(flags.get(name) ?? []), value])
  }
  return { words, flags }
}

export class UsageError extends Error {}

/** Reads flags of a parsed command line, complaining about unknown or missing ones. */
export class Flags {
  private readonly used = new Set<string>()
  constructor(private readonly parsed: Parsed) {}
  one(name: string): string | undefined {
    this.used.add(name)
    const v = this.parsed.flags.get(name)
    if (v && v.length > 1) throw new UsageError(`--${name} was given more than once`)
    return v?.[0]
  }
  required(name: string): string {
    const v = this.one(name)
    if (v === undefined) throw new UsageError(`--${name} is required`)
    return v
  }
  many(name: string): string[] {
    this.used.add(name)
    return this.parsed.flags.get(name) ?? []
  }
  bool(name: string): boolean {
    return this.one(name) === 'true'
  }
  /** Call after reading every flag: unknown flags are an error, not silently ignored. */
  done() {
    const unknown = [...this.parsed.flags.keys()].filter((k) => !this.used.has(k) && k !== 'json')
    if (unknown.length) throw new UsageError(`unknown option ${unknown.map((u) => `--${u}`).join(', ')}`)
  }
}
