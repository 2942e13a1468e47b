/**
 * Cursor pagination, newest first. A cursor is the (created_at, id) of the last item of
 * the previous page, base64url-encoded: stable under inserts, opaque to clients.
 */
import { invalid } from './errors.js'

export interface PageRequest {
  limit: number
  after?: { createdAt: Date; id: string }
}

export const encodeCursor = (createdAt: Date, id: string) => Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url')

export function decodeCursor(cursor: string | undefined): PageRequest['after'] {
  if (cursor === undefined) return undefined
  try {
    const [t, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string]
    const createdAt = new Date(t)
    // Only what encodeCursor makes: an id and a time the database can hold, else a forged
    // cursor (a NUL in the id, the year -10000) reaches the query and fails there as a 500.
    if (typeof t !== 'string' || typeof id !== 'string' || !/^[a-z]{2,8}_[0-9a-z]{1,64}$/.test(id)) throw new Error()
    if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== t) throw new Error()
    if (createdAt.getUTCFullYear() < 1 || createdAt.getUTCFullYear() > 9999) throw new Error()
    return { createdAt, id }
  } catch {
    throw invalid('cursor', 'is not a cursor this API gave out')
  }
}

/** One page of a listing: its items, and the cursor of the next page (null on the last). */
export interface Page<T> {
  items: T[]
  hasMore: boolean
  nextCursor: string | null
}

/** Fetch `limit + 1` rows, then call this: it trims the extra row and gives the next page's cursor. */
export function pageOf<T>(rows: T[], limit: number, key: (row: T) => { createdAt: Date; id: string }): Page<T> {
  const hasMore = rows.length > limit
  const items = hasMore ? rows.slice(0, limit) : rows
  const last = items[items.length - 1]
  return { items, hasMore, nextCursor: hasMore && last ? encodeCursor(key(last).createdAt, key(last).id) : null }
}
