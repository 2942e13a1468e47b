/**
 * Group writes: many callers' rows in one statement, the way PostgreSQL groups commits.
 *
 * `submit(item)` queues the item and resolves with its own result. While fewer than
 * `maxInFlight` batches are running, the queue is sent at once, so a lone caller waits for
 * nothing (a batch of one); under load, callers that arrive while batches run are sent
 * together in the next one (up to `maxBatch`). The batch's function answers one result per
 * item, in order. If the whole batch fails (one bad row fails a statement), each item is
 * tried alone with `single`, so that an error is its own caller's and nobody else's.
 */
export class Coalescer<In, Out> {
  private queue: { item: In; resolve: (out: Out) => void; reject: (err: unknown) => void }[] = []
  private inFlight = 0

  constructor(
    private readonly batch: (items: In[]) => Promise<Out[]>,
    private readonly single: (item: In) => Promise<Out>,
    private readonly maxInFlight: number,
    private readonly maxBatch: number,
    /** Told of every batch sent: its size, and whether it failed (its items then tried alone). */
    private readonly onBatch: (items: number, failed: boolean) => void = () => {},
  ) {}

  submit(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ item, resolve, reject })
      if (this.inFlight < this.maxInFlight) this.send()
    })
  }

  private send() {
    const taken = this.queue.splice(0, this.maxBatch)
    this.inFlight++
    const run = taken.length === 1 ? this.single(taken[0]!.item).then((out) => [out]) : this.batch(taken.map((t) => t.item))
    run
      .then(
        (outs) => {
          this.onBatch(taken.length, false)
          taken.forEach((t, i) => t.resolve(outs[i]!))
        },
        async (err) => {
          this.onBatch(taken.length, true)
          if (taken.length === 1) return taken[0]!.reject(err)
          await Promise.all(taken.map((t) => this.single(t.item).then(t.resolve, t.reject)))
        },
      )
      .finally(() => {
        this.inFlight--
        if (this.queue.length && this.inFlight < this.maxInFlight) this.send()
      })
  }
}
