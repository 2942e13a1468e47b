/**
 * The embedded database: PGlite in `DATA_DIR/pgdata`, for trying and developing.
 *
 * Only one process may open it. A lock file (`DATA_DIR/paylink.lock`) names the holder;
 * a second process (say the CLI while the server runs) stops at once with that name and
 * never touches the files. A lock left by a dead process is taken over.
 */
import { PGlite } from '@electric-sql/pglite'
import fs from 'node:fs'
import path from 'node:path'
import { pgliteDb, type Db } from './db.js'

export class DatabaseLockedError extends Error {
  constructor(readonly lockFile: string, readonly holder: string) {
    super(`The embedded database in ${path.dirname(lockFile)} is in use by ${holder}. Stop that process first, or set DATABASE_URL to use PostgreSQL.`)
    this.name = 'DatabaseLockedError'
  }
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes the lock or throws DatabaseLockedError; returns the function that releases it. */
export function lockDataDir(dataDir: string, purpose: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true })
  const lockFile = path.join(dataDir, 'paylink.lock')
  const body = JSON.stringify({ pid: process.pid, purpose, since: new Date().toISOString() })
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, body, { flag: 'wx' })
      return () => {
        try {
          const held = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as { pid: number }
          if (held.pid === process.pid) fs.unlinkSync(lockFile)
        } catch {
          // already gone
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      let holder: { pid?: number; purpose?: string; since?: string } = {}
      try {
        holder = JSON.parse(fs.readFileSync(lockFile, 'utf8'))
      } catch {
        // unreadable lock: treat as stale
      }
      if (holder.pid && holder.pid !== process.pid && isAlive(holder.pid)) {
        throw new DatabaseLockedError(lockFile, `process ${holder.pid} (${holder.purpose ?? 'paylink'}, since ${holder.since ?? '?'})`)
      }
      fs.rmSync(lockFile, { force: true })
    }
  }
  throw new DatabaseLockedError(lockFile, 'another process')
}

const int8AsNumber = { 20: (v: string) => Number(v) }

/** Opens (creating if needed) the embedded database, holding the data-dir lock until close. */
export async function openEmbeddedDb(dataDir: string, purpose: string): Promise<Db> {
  const release = lockDataDir(dataDir, purpose)
  try {
    const pglite = await PGlite.create({ dataDir: path.join(dataDir, 'pgdata'), parsers: int8AsNumber })
    return pgliteDb(pglite, release)
  } catch (err) {
    release()
    throw err
  }
}

/** An in-memory PGlite, optionally loaded from a snapshot that `dump` made (tests, tools). */
export async function openMemoryDb(snapshot?: Blob): Promise<Db & { dump(): Promise<Blob> }> {
  const pglite = await PGlite.create({ parsers: int8AsNumber, ...(snapshot ? { loadDataDir: snapshot } : {}) })
  return { ...pgliteDb(pglite), dump: () => pglite.dumpDataDir('none') }
}
