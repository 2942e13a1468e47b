/**
 * Signing-key rotation across processes: two API servers share one database (their own,
 * since rotation touches every tenant). Keys rotated by one reach the other within
 * KEY_REFRESH_MS of its clock, without a restart: it signs with the new key, its JWKS
 * shows it, and a key two rotations old stops verifying there too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeProtectedHeader } from 'jose'
import { createTenant, getToken, openPrivateDb, startServer, type TestServer, type TestTenant } from '../helpers/index.js'
import { KEY_REFRESH_MS } from '../../src/domain/oauth/keys.js'

let database: Awaited<ReturnType<typeof openPrivateDb>>
let a: TestServer
let b: TestServer
let client: TestTenant

beforeAll(async () => {
  database = await openPrivateDb()
  a = await startServer({}, { db: database.db })
  // One issuer for both, as behind one load balancer: B answers for A's public address.
  b = await startServer({ PUBLIC_BASE_URL: a.baseUrl }, { db: database.db })
  client = await createTenant(a)
}, 60_000)
afterAll(async () => {
  await a?.close()
  await b?.close()
  await database?.drop()
})

/** GET /v1/platform/users on a server's own port with a bearer token: the status. */
const usersStatus = async (server: TestServer, token: string) =>
  (await fetch(`http://127.0.0.1:${server.config.port}/v1/platform/users`, { headers: { authorization: `Bearer ${token}` } })).status
const kids = async (server: TestServer) =>
  ((await (await fetch(`http://127.0.0.1:${server.config.port}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid)

describe('a key rotation made by another process', () => {
  it('reaches this one within KEY_REFRESH_MS: it signs with the new key and drops the key two rotations old', async () => {
    const first = await getToken(a, client)
    expect(await usersStatus(b, first)).toBe(200)
    const oldKid = decodeProtectedHeader(first).kid

    await b.services.keys.rotate()
    const newest = await b.services.keys.rotate()
    expect(await kids(b)).toEqual([newest, expect.any(String)])
    expect(await kids(b)).not.toContain(oldKid)
    // B no longer accepts the key two rotations old.
    expect(await usersStatus(b, first)).toBe(401)

    a.clock.advance(KEY_REFRESH_MS + 1)
    const second = await getToken(a, client)
    expect(decodeProtectedHeader(second).kid).toBe(newest)
    expect(await usersStatus(b, second)).toBe(200)
    expect(await kids(a)).toEqual(await kids(b))
    // Nor does A, although it had verified that token before (and remembered it).
    expect(await usersStatus(a, first)).toBe(401)
    expect(await usersStatus(a, second)).toBe(200)
  })
})
