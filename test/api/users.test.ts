/**
 * SPEC "HTTP surface" (end users), "The envelope", "Identifiers", "Objects":
 * POST /v1/platform/users, GET /v1/platform/users, GET /v1/platform/users/{user_id}.
 * One server for the file; every test works in its own tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiClient, createTenant, expectFieldRefused, expectNotFoundAsMissing, getToken, newTenant, startServer, type Api, type TestServer } from '../helpers/index.js'

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())


/** Creates users one after another, a second apart on the server's clock, so their order is plain. */
async function createUsers(api: Api, n: number, base: Record<string, string> = {}) {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const r = await api.post('/v1/platform/users', { ...base, name: `User ${i}` })
    expect(r.status).toBe(201)
    ids.push(r.body.data.id)
    server.clock.advance(1000)
  }
  return ids
}

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

describe('creating a user: 201 with the user object', () => {
  it('answers the user with id, object, external_id, email, name and created_at', async () => {
    const { api } = await newTenant(server)
    const before = server.clock.now().getTime()
    const r = await api.post('/v1/platform/users', { external_id: 'cust-42', email: 'ada@example.com', name: 'Ada Lovelace' })
    expect(r.status).toBe(201)
    expect(r.body).toEqual({
      success: true,
      data: { id: expect.stringMatching(/^usr_[0-9a-z]+$/), object: 'user', external_id: 'cust-42', email: 'ada@example.com', name: 'Ada Lovelace', created_at: expect.any(String) },
      error: null,
      request_id: expect.stringMatching(/^req_/),
    })
    const createdAt = Date.parse(r.body.data.created_at)
    expect(new Date(createdAt).toISOString()).toBe(r.body.data.created_at)
    expect(createdAt).toBeGreaterThanOrEqual(before)
    expect(createdAt).toBeLessThanOrEqual(server.clock.now().getTime())
  })

  it('accepts an empty body: every field is optional and shows as null', async () => {
    const { api } = await newTenant(server)
    const r = await api.post('/v1/platform/users', {})
    expect(r.status).toBe(201)
    expect(r.body.data).toMatchObject({ object: 'user', external_id: null, email: null, name: null })
  })

  it('reads back the same user by id', async () => {
    const { api } = await newTenant(server)
    const created = await api.post('/v1/platform/users', { external_id: 'x-1', email: 'b@example.com', name: 'B' })
    const got = await api.get(`/v1/platform/users/${created.body.data.id}`)
    expect(got.status).toBe(200)
    expect(got.body.data).toEqual(created.body.data)
  })
})

describe('user ids are opaque, random and prefixed usr_', () => {
  it('gives every user a distinct usr_ id that does not follow creation order', async () => {
    const { api } = await newTenant(server)
    const ids: string[] = []
    for (let i = 0; i < 20; i++) ids.push((await api.post('/v1/platform/users', {})).body.data.id)
    for (const id of ids) expect(id).toMatch(/^usr_[0-9a-z]{16,}$/)
    expect(new Set(ids).size).toBe(20)
    // A counter or a timestamp would sort in creation order and share leading characters.
    expect([...ids].sort()).not.toEqual(ids)
    expect(new Set(ids.map((id) => id.slice(4, 5))).size).toBeGreaterThan(1)
  })
})

describe('external_id is unique among a tenant’s users', () => {
  it('refuses a second user with the same external_id: 409 conflict naming external_id', async () => {
    const { api } = await newTenant(server)
    expect((await api.post('/v1/platform/users', { external_id: 'dup-1' })).status).toBe(201)
    const again = await api.post('/v1/platform/users', { external_id: 'dup-1', name: 'Other' })
    expect(again.status).toBe(409)
    expect(again.body).toMatchObject({ success: false, data: null, error: { code: 'conflict', details: [{ field: 'external_id', issue: expect.any(String) }] } })
    const list = await api.get('/v1/platform/users?external_id=dup-1')
    expect(list.body.data).toHaveLength(1)
  })

  it('lets another tenant use the same external_id', async () => {
    const a = await newTenant(server)
    const b = await newTenant(server)
    expect((await a.api.post('/v1/platform/users', { external_id: 'shared-id' })).status).toBe(201)
    expect((await b.api.post('/v1/platform/users', { external_id: 'shared-id' })).status).toBe(201)
  })
})

describe('the body is validated strictly: 422 validation_error naming the field', () => {
  it('refuses an email that is not an email address', async () => {
    const { api } = await newTenant(server)
    const r = await api.post('/v1/platform/users', { email: 'not-an-email' })
    expect(r.status).toBe(422)
    expect(r.body.error.code).toBe('validation_error')
    expect(r.body.error.details).toEqual([{ field: 'email', issue: expect.any(String) }])
  })

  it('refuses an unknown field and names it', async () => {
    const { api } = await newTenant(server)
    const r = await api.post('/v1/platform/users', { email: 'c@example.com', nickname: 'cc' })
    expect(r.status).toBe(422)
    expect(r.body.error.code).toBe('validation_error')
    expect(r.body.error.details).toEqual([{ field: 'nickname', issue: 'is not a known field' }])
    expect(r.body.error.message).toContain('nickname')
  })

  it('never coerces types: a number where a string belongs is refused', async () => {
    const { api } = await newTenant(server)
    const r = await api.post('/v1/platform/users', { external_id: 12345 })
    expect(r.status).toBe(422)
    expect(r.body.error.details).toEqual([{ field: 'external_id', issue: expect.stringContaining('string') }])
  })

  it('refuses an empty external_id', async () => {
    const { api } = await newTenant(server)
    const r = await api.post('/v1/platform/users', { external_id: '' })
    expect(r.status).toBe(422)
    expect(r.body.error.details[0].field).toBe('external_id')
  })

  it('refuses text the database cannot hold (a NUL character) with a 422, not a 500', async () => {
    const { api } = await newTenant(server)
    const r = await api.post('/v1/platform/users', { name: 'Ada\u0000Lovelace' })
    expect(r.status).toBe(422)
    expect(r.body.error.details).toEqual([{ field: 'name', issue: expect.any(String) }])
  })

  it('creates nothing when it refuses', async () => {
    const { api } = await newTenant(server)
    await api.post('/v1/platform/users', { email: 'bad', name: 'Refused' })
    await api.post('/v1/platform/users', { name: 'Refused', extra: true })
    const list = await api.get('/v1/platform/users')
    expect(list.body.data).toEqual([])
  })
})

describe('listing users: newest first', () => {
  it('lists the tenant’s users newest first, in the envelope with pagination', async () => {
    const { api } = await newTenant(server)
    const ids = await createUsers(api, 3)
    const r = await api.get('/v1/platform/users')
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ success: true, data: expect.any(Array), error: null, pagination: { next_cursor: null, has_more: false }, request_id: expect.stringMatching(/^req_/) })
    expect(r.body.data.map((u: { id: string }) => u.id)).toEqual([...ids].reverse())
    expect(r.body.data[0]).toEqual((await api.get(`/v1/platform/users/${ids[2]}`)).body.data)
  })

  it('shows no other tenant’s users', async () => {
    const a = await newTenant(server)
    const b = await newTenant(server)
    await createUsers(a.api, 2)
    const mine = await createUsers(b.api, 1)
    const r = await b.api.get('/v1/platform/users')
    expect(r.body.data.map((u: { id: string }) => u.id)).toEqual(mine)
  })

  it('filters by external_id', async () => {
    const { api } = await newTenant(server)
    await api.post('/v1/platform/users', { external_id: 'alpha' })
    const beta = await api.post('/v1/platform/users', { external_id: 'beta' })
    await api.post('/v1/platform/users', { name: 'no external id' })
    const r = await api.get('/v1/platform/users?external_id=beta')
    expect(r.status).toBe(200)
    expect(r.body.data).toEqual([beta.body.data])
    expect((await api.get('/v1/platform/users?external_id=gamma')).body.data).toEqual([])
  })
})

describe('listing users: cursor pagination, limit 1–100, default 20', () => {
  it('walks every user exactly once, page by page, following next_cursor', async () => {
    const { api } = await newTenant(server)
    const ids = await createUsers(api, 5)
    const pages: string[][] = []
    const more: boolean[] = []
    let cursor: string | null = null
    do {
      const r = await api.get(`/v1/platform/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      expect(r.status).toBe(200)
      pages.push(r.body.data.map((u: { id: string }) => u.id))
      more.push(r.body.pagination.has_more)
      cursor = r.body.pagination.next_cursor
      expect(cursor === null).toBe(!r.body.pagination.has_more)
    } while (cursor && pages.length < 10)
    const newestFirst = [...ids].reverse()
    expect(pages).toEqual([newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4)])
    expect(more).toEqual([true, true, false])
  })

  it('keeps a page stable when users are added after it was read', async () => {
    const { api } = await newTenant(server)
    const ids = await createUsers(api, 3)
    const first = await api.get('/v1/platform/users?limit=2')
    await createUsers(api, 2)
    const second = await api.get(`/v1/platform/users?limit=2&cursor=${first.body.pagination.next_cursor}`)
    expect(second.body.data.map((u: { id: string }) => u.id)).toEqual([ids[0]])
  })

  it('gives 20 users a page by default and up to 100 when asked', async () => {
    const { api } = await newTenant(server)
    await createUsers(api, 21)
    const byDefault = await api.get('/v1/platform/users')
    expect(byDefault.body.data).toHaveLength(20)
    expect(byDefault.body.pagination.has_more).toBe(true)
    const hundred = await api.get('/v1/platform/users?limit=100')
    expect(hundred.status).toBe(200)
    expect(hundred.body.data).toHaveLength(21)
    expect(hundred.body.pagination).toEqual({ next_cursor: null, has_more: false })
  })

  it.each(['0', '101', 'abc', '2.5', '-1'])('refuses limit=%s with 422 naming limit', async (limit) => {
    const { api } = await newTenant(server)
    const r = await api.get(`/v1/platform/users?limit=${limit}`)
    expect(r.status).toBe(422)
    expect(r.body.error.code).toBe('validation_error')
    expect(r.body.error.details).toEqual([{ field: 'limit', issue: expect.any(String) }])
  })

  it.each([
    ['text that is not base64 JSON', 'not-a-cursor'],
    ['a cursor with a character flipped', null],
    ['JSON that is not a position', cursorOf({ offset: 20 })],
    ['a position whose id is not a string', cursorOf(['2024-01-01T00:00:00.000Z', 7])],
    ['a position in the year -10000', cursorOf(['-010000-01-01T00:00:00.000Z', 'usr_abc'])],
    ['a position whose id holds a NUL character', cursorOf(['2024-01-01T00:00:00.000Z', 'usr_\u0000'])],
  ])('refuses a forged cursor (%s) with 422 naming cursor', async (_what, forged) => {
    const { api } = await newTenant(server)
    await createUsers(api, 3)
    let cursor = forged
    if (cursor === null) {
      const real: string = (await api.get('/v1/platform/users?limit=1')).body.pagination.next_cursor
      cursor = real.slice(0, 5) + (real[5] === 'A' ? 'B' : 'A') + real.slice(6)
    }
    const r = await api.get(`/v1/platform/users?cursor=${encodeURIComponent(cursor)}`)
    expect(r.status).toBe(422)
    expect(r.body.error.code).toBe('validation_error')
    expect(r.body.error.details).toEqual([{ field: 'cursor', issue: expect.any(String) }])
  })

  it('refuses an unknown query parameter with 422 naming it', async () => {
    const { api } = await newTenant(server)
    const r = await api.get('/v1/platform/users?email=a@example.com')
    expectFieldRefused(r, 'email')
  })
})

describe('another tenant’s user is not_found, never forbidden', () => {
  it('answers 404 not_found for another tenant’s user, exactly as for an id that never existed', async () => {
    const a = await newTenant(server)
    const b = await newTenant(server)
    const theirs = (await a.api.post('/v1/platform/users', { email: 'secret@example.com' })).body.data.id
    const foreign = await b.api.get(`/v1/platform/users/${theirs}`)
    const missing = await b.api.get('/v1/platform/users/usr_doesnotexist0000000000')
    expectNotFoundAsMissing(foreign, missing)
    expect(JSON.stringify(foreign.body)).not.toContain('secret@example.com')
  })
})

describe('scopes', () => {
  it('needs users:write to create and users:read to read: 403 forbidden otherwise', async () => {
    const tenant = await createTenant(server)
    const readOnly = apiClient(server, await getToken(server, tenant, { scope: 'users:read' }))
    const writeOnly = apiClient(server, await getToken(server, tenant, { scope: 'users:write' }))
    const refused = await readOnly.post('/v1/platform/users', { name: 'x' })
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('forbidden')
    expect((await writeOnly.get('/v1/platform/users')).status).toBe(403)
    expect((await writeOnly.post('/v1/platform/users', { name: 'x' })).status).toBe(201)
    expect((await readOnly.get('/v1/platform/users')).body.data).toHaveLength(1)
  })

  it('answers 401 with WWW-Authenticate without a token', async () => {
    const r = await apiClient(server).get('/v1/platform/users')
    expect(r.status).toBe(401)
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/)
    expect(r.body.error.code).toBe('unauthorized')
  })
})
