/** The processors' webhook events paylink has applied, each once by the processor's own id. */
import type { Queryable } from '../db.js'
import type { AccountId, TenantId } from '../../domain/shared/ids.js'

export class ProcessorEventRepository {
  constructor(private readonly q: Queryable) {}

  /** Records the event; false when it was recorded before (a resend: apply nothing). */
  async keep(tenantId: TenantId, accountId: AccountId, eventId: string, at: Date): Promise<boolean> {
    return (
      (await this.q.run('INSERT INTO processor_events (tenant_id, account_id, event_id, received_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [tenantId, accountId, eventId, at])) > 0
    )
  }
}
