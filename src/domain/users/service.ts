/** End users: each belongs to exactly one tenant, and every finder takes that tenant. */
import type { Store } from '../../storage/store.js'
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

export class UserService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async create(tenantId: TenantId, input: { external_id?: string; email?: string; name?: string }): Promise<User> {
    const user: User = { id: newId('user'), externalId: input.external_id ?? null, email: input.email ?? null, name: input.name ?? null, createdAt: this.clock.now() }
    if (!(await this.store.users.insertUnlessExternalIdTaken(tenantId, user))) {
      throw new AppError('conflict', 'A user with this external_id already exists.', [{ field: 'external_id', issue: 'is already used by another user' }])
    }
    return user
  }

  async get(tenantId: TenantId, userId: UserId): Promise<User> {
    const user = await this.store.users.find(tenantId, userId)
    if (!user) throw notFound('user')
    return user
  }

  async list(tenantId: TenantId, q: { limit: number; cursor?: string; external_id?: string }) {
    const after = decodeCursor(q.cursor)
    // One more than the page holds tells whether another page follows.
    const users = await this.store.users.list(tenantId, { limit: q.limit + 1, externalId: q.external_id, after })
    return pageOf(users, q.limit, (u) => u)
  }
}
