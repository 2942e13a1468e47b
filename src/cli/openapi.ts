/** Builds the app on a throwaway in-memory database to print its OpenAPI document. */
import { randomBytes } from 'node:crypto'
import { buildApp } from '../app.js'
import { loadConfig } from '../config.js'
import { openMemoryDb } from '../storage/embedded.js'
import { migrate } from '../storage/migrate.js'
import { systemClock } from '../domain/shared/clock.js'

export async function openApiDocument(): Promise<unknown> {
  const db = await openMemoryDb()
  try {
    await migrate(db)
    const { app } = await buildApp({ config: loadConfig({ ...process.env, DATABASE_URL: '' }), db, clock: systemClock, encryptionKey: randomBytes(32) })
    await app.ready()
    const doc = app.swagger()
    await app.close()
    return doc
  } finally {
    await db.close()
  }
}
