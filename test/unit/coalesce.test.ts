/**
 * Grouped writes (src/storage/coalesce.ts): a lone caller is sent at once and alone; callers
 * arriving while batches run go together in the next one; every caller gets its own answer,
 * and when a group fails each is tried alone, so an error reaches only its own caller.
 */
import { describe, expect, it } from 'vitest'
import { Coalescer } from '../../src/storage/coalesce.js'

/** A coalescer over a fake store whose statements finish when the test says. */
function harness(maxInFlight: number, maxBatch: number, bad = new Set<number>()) {
  const statements: { kind: 'batch' | 'single'; items: number[]; finish: () => void }[] = []
  const stmt = (kind: 'batch' | 'single', items: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      statements.push({
        kind,
        items,
        finish: () => (items.some((i) => bad.has(i)) ? reject(new Error(`bad item in ${items}`)) : resolve(items.map((i) => i * 10))),
      })
    })
  const sizes: [number, boolean][] = []
  const c = new Coalescer<number, number>(
    (items) => stmt('batch', items),
    async (item) => (await stmt('single', [item]))[0]!,
    maxInFlight,
    maxBatch,
    (n, failed) => sizes.push([n, failed]),
  )
  const tick = () => new Promise((r) => setImmediate(r))
  return { c, statements, sizes, tick }
}

describe('Coalescer', () => {
  it('sends a lone item at once, by itself', async () => {
    const { c, statements, tick } = harness(2, 64)
    const a = c.submit(1)
    expect(statements.map((s) => [s.kind, s.items])).toEqual([['single', [1]]])
    statements[0]!.finish()
    expect(await a).toBe(10)
    await tick()
    expect(statements).toHaveLength(1)
  })

  it('groups what arrives while the batches run, in order, up to the batch limit', async () => {
    const { c, statements, sizes, tick } = harness(2, 3)
    const answers = [1, 2, 3, 4, 5, 6, 7].map((i) => c.submit(i))
    // Two running (1 and 2, each alone), five waiting.
    expect(statements.map((s) => s.items)).toEqual([[1], [2]])
    statements[0]!.finish()
    await tick()
    expect(statements.map((s) => s.items)).toEqual([[1], [2], [3, 4, 5]])
    statements[1]!.finish()
    await tick()
    expect(statements.map((s) => s.items)).toEqual([[1], [2], [3, 4, 5], [6, 7]])
    statements[2]!.finish()
    statements[3]!.finish()
    expect(await Promise.all(answers)).toEqual([10, 20, 30, 40, 50, 60, 70])
    expect(sizes).toEqual([[1, false], [1, false], [3, false], [2, false]])
  })

  it('when a group fails, tries each item alone: only the bad one fails', async () => {
    const { c, statements, sizes, tick } = harness(1, 10, new Set([3]))
    const answers = [1, 2, 3, 4].map((i) => c.submit(i).then((v) => ({ ok: v }), (e: Error) => ({ err: e.message })))
    statements[0]!.finish() // 1 alone
    await tick()
    expect(statements[1]!.items).toEqual([2, 3, 4])
    statements[1]!.finish() // fails: 3 is bad
    await tick()
    expect(statements.slice(2).map((s) => [s.kind, s.items])).toEqual([['single', [2]], ['single', [3]], ['single', [4]]])
    for (const s of statements.slice(2)) s.finish()
    expect(await Promise.all(answers)).toEqual([{ ok: 10 }, { ok: 20 }, { err: 'bad item in 3' }, { ok: 40 }])
    expect(sizes).toEqual([[1, false], [3, true]])
    // The group's retries held its place: nothing else was sent meanwhile, and the coalescer goes on.
    const next = c.submit(5)
    await tick()
    statements.at(-1)!.finish()
    expect(await next).toBe(50)
  })
})
