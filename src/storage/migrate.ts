/**
 * Versioned migrations: `migrations/NNNN_name.sql`, applied in order, each in its own
 * transaction, recorded in `schema_migrations`. An advisory lock makes concurrent starts
 * of several processes safe: one applies, the others wait and then find nothing to do.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Db } from './db.js'

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations')
const LOCK_KEY = 7_351_942_001

export interface Migration {
  version: number
  name: string
  sql: string
}

/** Every migration shipped with this build, in order. */
export function knownMigrations(): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 4)), name: f.slice(5, -4), sql: fs.readFileSync(path.join(dir, f), 'utf8') }))
}

/** Applies what is missing; returns the versions applied now. */
export async function migrate(db: Db): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY])
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
    const done = new Set((await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version))
    const applied: number[] = []
    for (const m of knownMigrations()) {
      if (done.has(m.version)) continue
      await tx.exec(m.sql)
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name])
      applied.push(m.version)
    }
    return applied
  })
}

/** The versions not yet applied (for /readyz). */
export async function pendingMigrations(db: Db): Promise<number[]> {
  const rows = await db.query<{ version: number }>('SELECT version FROM schema_migrations')
  const done = new Set(rows.map((r) => r.version))
  return knownMigrations().map((m) => m.version).filter((v) => !done.has(v))
}
