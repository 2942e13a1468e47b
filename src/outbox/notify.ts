/**
 * Waking every worker when there is something to deliver. On PostgreSQL, API and worker
 * processes are apart: a process that has just committed an outcome (and its deliveries)
 * notifies the `paylink_outbox` channel (`Store.notify`), and every ROLE=all/worker process
 * listens there (`Store.listen`) and runs a pass at once instead of at its next poll
 * (WORKER_POLL_SECONDS). The notice is a hint, never the only way work is found: a lost one
 * costs one poll interval, nothing more.
 *
 * Pokes are coalesced: at most one notice per NOTIFY_DELAY_MS per process, sent that long
 * after the first poke, by when the transaction that poked has committed (the poke comes
 * from inside it). It is a statement of its own, outside every payment's transaction, so
 * payments never queue behind PostgreSQL's notification lock.
 */
import type { Store } from '../storage/store.js'

export const OUTBOX_CHANNEL = 'paylink_outbox'
const NOTIFY_DELAY_MS = 50

export class OutboxNotifier {
  private pending: NodeJS.Timeout | undefined

  constructor(
    private readonly store: Store,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  poke() {
    if (this.pending) return
    this.pending = setTimeout(() => {
      this.pending = undefined
      this.store.notify?.(OUTBOX_CHANNEL).catch(this.onError)
    }, NOTIFY_DELAY_MS)
    this.pending.unref()
  }

  stop() {
    clearTimeout(this.pending)
    this.pending = undefined
  }
}
