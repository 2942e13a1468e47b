/**
 * Data migrations keep what a running deployment holds. Each case builds the schema as it
 * was before the migration in a scratch schema of the test database (PGlite or PostgreSQL),
 * writes rows the old way, applies the migration's own SQL, and reads the rows back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db, Queryable } from '../../src/storage/db.js'
import { knownMigrations } from '../../src/storage/migrate.js'
import { openTestDb } from '../helpers/index.js'

let db: Db
beforeAll(async () => {
  db = await openTestDb()
})
afterAll(async () => {
  await db?.close()
})

/** Runs `fn` in a transaction whose search_path is a new, empty schema; everything is rolled back. */
async function inScratchSchema(fn: (tx: Queryable & { exec(sql: string): Promise<void> }) => Promise<void>) {
  const rollback = new Error('rollback')
  await db
    .transaction(async (tx) => {
      await tx.exec('CREATE SCHEMA scratch_migration; SET LOCAL search_path TO scratch_migration')
      await fn(tx)
      throw rollback
    })
    .catch((err) => {
      if (err !== rollback) throw err
    })
}

const migration = (version: number) => knownMigrations().find((m) => m.version === version)!

/** The schema as it was before `version`, with tenant ten_a, its user usr_a and its sandbox account cpa_a. */
async function schemaBefore(tx: Queryable & { exec(sql: string): Promise<void> }, version: number, at: Date) {
  for (const m of knownMigrations().filter((m) => m.version < version)) await tx.exec(m.sql)
  await tx.query("INSERT INTO tenants (id, name, allowed_origins, created_at) VALUES ('ten_a', 'A', '{}', $1)", [at])
  await tx.query("INSERT INTO end_users (tenant_id, id, created_at) VALUES ('ten_a', 'usr_a', $1)", [at])
  await tx.query("INSERT INTO card_processing_accounts (tenant_id, id, name, processor, currencies, created_at) VALUES ('ten_a', 'cpa_a', 'S', 'sandbox', '{USD}', $1)", [at])
}

describe('0004: a link moves into its intent row', () => {
  it('keeps every token hash, claim and session hash, then drops payment_links', async () => {
    await inScratchSchema(async (tx) => {
      const at = new Date('2026-11-25T12:00:00Z')
      await schemaBefore(tx, 4, at)
      for (const id of ['pi_fresh', 'pi_claimed']) {
        await tx.query(
          `INSERT INTO payment_intents (tenant_id, id, user_id, account_id, amount_minor, currency, status, expires_at, created_at, updated_at)
           VALUES ('ten_a', $1, 'usr_a', 'cpa_a', 1250, 'USD', 'pending', $2, $2, $2)`,
          [id, at],
        )
      }
      await tx.query("INSERT INTO payment_links (tenant_id, payment_intent_id, token_hash, created_at) VALUES ('ten_a', 'pi_fresh', '\\x01'::bytea, $1)", [at])
      await tx.query(
        "INSERT INTO payment_links (tenant_id, payment_intent_id, token_hash, claimed_at, session_hash, created_at) VALUES ('ten_a', 'pi_claimed', '\\x02'::bytea, $1, '\\x03'::bytea, $1)",
        [at],
      )

      await tx.exec(migration(4).sql)

      const rows = await tx.query<{ id: string; link_token_hash: Uint8Array; link_claimed_at: Date | null; link_session_hash: Uint8Array | null }>(
        'SELECT id, link_token_hash, link_claimed_at, link_session_hash FROM payment_intents ORDER BY id',
      )
      expect(rows.map((r) => ({ ...r, link_token_hash: Buffer.from(r.link_token_hash).toString('hex'), link_session_hash: r.link_session_hash && Buffer.from(r.link_session_hash).toString('hex') }))).toEqual([
        { id: 'pi_claimed', link_token_hash: '02', link_claimed_at: at, link_session_hash: '03' },
        { id: 'pi_fresh', link_token_hash: '01', link_claimed_at: null, link_session_hash: null },
      ])
      const [gone] = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'scratch_migration' AND table_name = 'payment_links'")
      expect(gone!.n).toBe(0)
      // One token, one intent: a second intent with the same hash is refused.
      await expect(
        tx.query(
          `INSERT INTO payment_intents (tenant_id, id, user_id, account_id, amount_minor, currency, status, expires_at, created_at, updated_at, link_token_hash)
           VALUES ('ten_a', 'pi_dup', 'usr_a', 'cpa_a', 1, 'USD', 'pending', $1, $1, $1, '\\x01'::bytea)`,
          [at],
        ),
      ).rejects.toThrow(/duplicate key|unique/i)
    })
  })
})

describe('0005: the state machine keeps its own states', () => {
  it('moves an intent waiting for 3-D Secure to requires_action and leaves every other intent as it was', async () => {
    await inScratchSchema(async (tx) => {
      const at = new Date('2026-12-02T12:00:00Z')
      await schemaBefore(tx, 5, at)
      const rows: [string, string, string | null][] = [
        ['pi_challenged', 'processing', 'ch_1'],
        ['pi_charging', 'processing', null],
        ['pi_pending', 'pending', null],
        ['pi_paid', 'succeeded', null],
      ]
      for (const [id, status, challenge] of rows) {
        await tx.query(
          `INSERT INTO payment_intents (tenant_id, id, user_id, account_id, amount_minor, currency, status, challenge_id, expires_at, created_at, updated_at, link_token_hash)
           VALUES ('ten_a', $1, 'usr_a', 'cpa_a', 1250, 'USD', $2, $3, $4, $4, $4, $5)`,
          [id, status, challenge, at, Buffer.from(id)],
        )
      }

      await tx.exec(migration(5).sql)

      const after = await tx.query<{ id: string; status: string }>('SELECT id, status FROM payment_intents ORDER BY id')
      expect(after).toEqual([
        { id: 'pi_challenged', status: 'requires_action' },
        { id: 'pi_charging', status: 'processing' },
        { id: 'pi_paid', status: 'succeeded' },
        { id: 'pi_pending', status: 'pending' },
      ])
      await expect(tx.query("UPDATE payment_intents SET status = 'refunded' WHERE id = 'pi_paid'")).rejects.toThrow(/check constraint/i)
    })
  })
})

describe('0009: a payment keeps the moments of its timeline', () => {
  it('gives a final intent its last update as its finish, and leaves the others without one', async () => {
    await inScratchSchema(async (tx) => {
      const at = new Date('2026-12-03T12:00:00Z')
      const later = new Date('2026-12-03T12:05:00Z')
      await schemaBefore(tx, 9, at)
      for (const [id, status] of [
        ['pi_paid', 'succeeded'],
        ['pi_declined', 'failed'],
        ['pi_waiting', 'requires_action'],
        ['pi_pending', 'pending'],
      ] as const) {
        await tx.query(
          `INSERT INTO payment_intents (tenant_id, id, user_id, account_id, amount_minor, currency, status, expires_at, created_at, updated_at, link_token_hash)
           VALUES ('ten_a', $1, 'usr_a', 'cpa_a', 1250, 'USD', $2, $3, $3, $4, $5)`,
          [id, status, at, later, Buffer.from(id)],
        )
      }

      await tx.exec(migration(9).sql)

      const rows = await tx.query<{ id: string; finished_at: Date | null; confirmed_at: Date | null; action_required_at: Date | null }>(
        'SELECT id, finished_at, confirmed_at, action_required_at FROM payment_intents ORDER BY id',
      )
      expect(rows).toEqual([
        { id: 'pi_declined', finished_at: later, confirmed_at: null, action_required_at: null },
        { id: 'pi_paid', finished_at: later, confirmed_at: null, action_required_at: null },
        { id: 'pi_pending', finished_at: null, confirmed_at: null, action_required_at: null },
        { id: 'pi_waiting', finished_at: null, confirmed_at: null, action_required_at: null },
      ])
      const [portal] = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'scratch_migration' AND table_name = 'portal_sessions'")
      expect(portal!.n).toBe(1)
    })
  })
})
