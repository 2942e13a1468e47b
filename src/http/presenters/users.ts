/** The public JSON of a user. */
import type { User } from '../../domain/users/service.js'

export const userJson = (u: User) => ({
  id: u.id,
  object: 'user' as const,
  external_id: u.externalId,
  email: u.email,
  name: u.name,
  created_at: u.createdAt.toISOString(),
})
