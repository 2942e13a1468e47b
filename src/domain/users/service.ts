/** End users: each belongs to exactly one tenant, and every finder takes that tenant. */
import type { Db } from '../../storage/db.js'
import { sql } from '../../storage/db.js'
import type { Clock } from '../shared/clock.js'
import { AppError, notFound } from '../shared/errors.js'
import { newId, type TenantId, type UserId } from '../shared/ids.js'
import { decodeCursor, pageOf } from '../shared/pagination.js'

export interface User {
  id: UserId
  externalId: string | null
  email: string | null
  name: string | null
  createdAt: Date
}

const userFrom = (r: Record<string, unknown>): User => ({
  id: r.id as UserId,
  externalId: (r.external_id as string | null) ?? null,
  email: (r.email as string | null) ?? null,
  name: (r.name as string | null) ?? null,
  createdAt: new Date(r.created_at as Date),
})

const GET_USER = sql('user_get', 'SELECT id, external_id, email, name, created_at FROM end_users WHERE tenant_id = $1 AND id = $2')

export class UserService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async create(tenantId: TenantId, input: { external_id?: string; email?: string; name?: string }): Promise<User> {
    const id = newId('user')
    const rows = await this.db.query(
      `INSERT INTO end_users (tenant_id, id, external_id, email, name, created_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, external_id) WHERE external_id IS NOT NULL DO NOTHING
       RETURNING id, external_id, email, name, created_at`,
      [tenantId, id, input.external_id ?? null, input.email ?? null, input.name ?? null, this.clock.now()],
    )
    if (!rows[0]) throw new AppError('conflict', 'A user with this external_id already exists.', [{ field: 'external_id', issue: 'is already used by another user' }])
    return userFrom(rows[0])
  }

  async get(tenantId: TenantId, userId: string): Promise<User> {
    const [row] = await this.db.query(GET_USER, [tenantId, userId])
    if (!row) throw notFound('user')
    return userFrom(row)
  }

  async list(tenantId: TenantId, q: { limit: number; cursor?: string; external_id?: string }) {
    const after = decodeCursor(q.cursor)
    const rows = await this.db.query(
      `SELECT id, external_id, email, name, created_at FROM end_users
       WHERE tenant_id = $1 AND ($2::text IS NULL OR external_id = $2)
         AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::text))
       ORDER BY created_at DESC, id DESC LIMIT $5`,
      [tenantId, q.external_id ?? null, after?.createdAt ?? null, after?.id ?? null, q.limit + 1],
    )
    return pageOf(rows.map(userFrom), q.limit, (u) => u)
  }
}
