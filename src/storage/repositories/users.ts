/** A tenant's end users. */
import { sql, type Queryable } from '../db.js'
import type { User } from '../../domain/users/service.js'
import type { TenantId, UserId } from '../../domain/shared/ids.js'

interface UserRow {
  id: string
  external_id: string | null
  email: string | null
  name: string | null
  created_at: Date
}

const userFrom = (r: UserRow): User => ({
  id: r.id as UserId,
  externalId: r.external_id ?? null,
  email: r.email ?? null,
  name: r.name ?? null,
  createdAt: new Date(r.created_at),
})

const USER_COLUMNS = 'id, external_id, email, name, created_at'

const GET_USER = sql('user_get', `SELECT ${USER_COLUMNS} FROM end_users WHERE tenant_id = $1 AND id = $2`)

export class UserRepository {
  constructor(private readonly q: Queryable) {}

  /** Stores the user unless the tenant has a user with its `externalId` already; answers whether it did. */
  async insertUnlessExternalIdTaken(tenantId: TenantId, user: User): Promise<boolean> {
    const written = await this.q.run(
      `INSERT INTO end_users (tenant_id, id, external_id, email, name, created_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, external_id) WHERE external_id IS NOT NULL DO NOTHING`,
      [tenantId, user.id, user.externalId, user.email, user.name, user.createdAt],
    )
    return written > 0
  }

  async find(tenantId: TenantId, userId: UserId): Promise<User | undefined> {
    const [row] = await this.q.query<UserRow>(GET_USER, [tenantId, userId])
    return row && userFrom(row)
  }

  /** Up to `limit` users, newest first, after the cursor position `after`, only those with `externalId` if given. */
  async list(tenantId: TenantId, q: { limit: number; externalId?: string; after?: { createdAt: Date; id: string } }): Promise<User[]> {
    const rows = await this.q.query<UserRow>(
      `SELECT ${USER_COLUMNS} FROM end_users
       WHERE tenant_id = $1 AND ($2::text IS NULL OR external_id = $2)
         AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::text))
       ORDER BY created_at DESC, id DESC LIMIT $5`,
      [tenantId, q.externalId ?? null, q.after?.createdAt ?? null, q.after?.id ?? null, q.limit],
    )
    return rows.map(userFrom)
  }
}
