/**
 * One small database interface over two engines: PostgreSQL through `pg` (production)
 * and embedded PGlite (first run, development, tests). Repositories only see `Db`.
 *
 * Statements that run on hot paths carry a `name`: on PostgreSQL they become named
 * prepared statements (parsed once per connection); PGlite ignores the name.
 */
import pg from 'pg'
import type { PGlite, Transaction } from '@electric-sql/pglite'

export interface Statement {
  /** Name of a prepared statement; set it on hot paths only. */
  readonly name?: string
  readonly text: string
}

/** Something that runs SQL: the database itself or an open transaction. */
export interface Queryable {
  query<R = Record<string, unknown>>(stmt: Statement | string, params?: unknown[]): Promise<R[]>
  /**
   * Runs a statement that returns no rows and answers how many rows it inserted, updated or
   * deleted: a write whose only answer is "did it happen" skips a RETURNING row, which `pg`
   * would describe and parse on every execution.
   */
  run(stmt: Statement | string, params?: unknown[]): Promise<number>
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres'
  /** Runs `fn` in one transaction: commit when it resolves, roll back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /**
   * PostgreSQL only: calls `onNotify` for every NOTIFY on `channel`, on a connection of its
   * own (reconnected a second after it is lost, with one call then for what was missed).
   * Resolves, once listening, to a function that stops it. The embedded database is one
   * process and has nobody to hear from.
   */
  listen?(channel: string, onNotify: () => void): Promise<() => Promise<void>>
  /** PostgreSQL only: `NOTIFY channel`, as a statement of its own (outside every transaction), for those who `listen`. */
  notify?(channel: string): Promise<void>
  close(): Promise<void>
}

/** Declares a named statement once, at module level. */
export const sql = (name: string, text: string): Statement => ({ name, text })

const textOf = (stmt: Statement | string) => (typeof stmt === 'string' ? stmt : stmt.text)

// bigint (int8) columns come back as JS numbers: every amount we keep is below 2^53.
pg.types.setTypeParser(20, (v) => Number(v))

/**
 * `pooler: 'transaction'` is PgBouncer (or a pooler like it) in transaction-pooling mode in
 * front of PostgreSQL: a session is a transaction long, so named prepared statements (kept by
 * a server connection another client gets next) and LISTEN (kept by a session) cannot be
 * used through it. Statements then go unnamed, and LISTEN goes to `directUrl` — without one,
 * there is no `listen` and the workers poll (WORKER_POLL_SECONDS).
 */
export interface PostgresOptions {
  max?: number
  pooler?: 'none' | 'transaction'
  directUrl?: string
}

/**
 * The pool keeps the connections it opens (`min` = `max`, as HikariCP's fixed-size pool
 * does): pg-pool's default closed any idle for 10 s, so after a quiet spell a burst of
 * requests paid for new backends — a fork, authentication, and every named statement
 * prepared again — on its way (measured: a wave of 20 confirms after 15 quiet seconds took
 * 40–80 ms longer than the next). At most `max` (10) per process, opened as load needs
 * them; a connection the server drops is replaced (`error` below).
 */
export function postgresDb(connectionString: string, opts: PostgresOptions = {}): Db {
  const max = opts.max ?? 10
  const pool = new pg.Pool({ connectionString, max, min: max })
  const named = opts.pooler !== 'transaction'
  const listenUrl = named ? connectionString : opts.directUrl
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it. Queries in flight see their own error.
  })
  const send = (client: pg.Pool | pg.PoolClient, stmt: Statement | string, params: unknown[] = []) =>
    client.query(typeof stmt === 'string' || !stmt.name || !named ? { text: textOf(stmt), values: params } : { name: stmt.name, text: stmt.text, values: params })
  const run = async (client: pg.Pool | pg.PoolClient, stmt: Statement | string, params?: unknown[]) => (await send(client, stmt, params)).rows
  const count = async (client: pg.Pool | pg.PoolClient, stmt: Statement | string, params?: unknown[]) => (await send(client, stmt, params)).rowCount ?? 0
  return {
    kind: 'postgres',
    query: (stmt, params) => run(pool, stmt, params) as Promise<never[]>,
    run: (stmt, params) => count(pool, stmt, params),
    exec: async (script) => void (await pool.query(script)),
    async transaction(fn) {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const result = await fn({
          query: (stmt, params) => run(client, stmt, params) as Promise<never[]>,
          run: (stmt, params) => count(client, stmt, params),
          exec: async (script) => void (await client.query(script)),
        })
        await client.query('COMMIT')
        return result
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        client.release()
      }
    },
    ...(listenUrl ? { listen: (channel: string, onNotify: () => void) => listenOn(listenUrl, channel, onNotify) } : {}),
    notify: async (channel) => void (await pool.query(`NOTIFY ${channelName(channel)}`)),
    close: () => pool.end(),
  }
}

/** A channel name goes into LISTEN and NOTIFY as it is (they take no parameters): only plain names pass. */
function channelName(channel: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a channel name: ${channel}`)
  return channel
}

async function listenOn(connectionString: string, channel: string, onNotify: () => void): Promise<() => Promise<void>> {
  channelName(channel)
  let stopped = false
  let client: pg.Client | undefined
  let retry: NodeJS.Timeout | undefined
  const connect = async () => {
    const c = new pg.Client({ connectionString })
    c.on('notification', (m) => {
      if (m.channel === channel) onNotify()
    })
    c.on('error', () => {
      // Lost: 'end' follows and reconnects.
    })
    c.on('end', () => {
      if (client === c) client = undefined
      if (!stopped) again()
    })
    await c.connect()
    await c.query(`LISTEN ${channel}`)
    if (stopped) return void (await c.end().catch(() => {}))
    client = c
  }
  const again = () => {
    clearTimeout(retry)
    retry = setTimeout(() => {
      connect()
        .then(() => onNotify()) // whatever was notified while nobody listened
        .catch(() => {
          if (!stopped && !client) again()
        })
    }, 1000)
    retry.unref()
  }
  await connect()
  return async () => {
    stopped = true
    clearTimeout(retry)
    await client?.end().catch(() => {})
  }
}

/** Wraps an open PGlite instance. PGlite is one connection: its own mutex serialises transactions. */
export function pgliteDb(pglite: PGlite, onClose?: () => Promise<void> | void): Db {
  const on = async (q: PGlite | Transaction, stmt: Statement | string, params: unknown[] = []) => {
    const res = await q.query(textOf(stmt), params)
    return res.rows
  }
  const count = async (q: PGlite | Transaction, stmt: Statement | string, params: unknown[] = []) => (await q.query(textOf(stmt), params)).affectedRows ?? 0
  return {
    kind: 'pglite',
    query: (stmt, params) => on(pglite, stmt, params) as Promise<never[]>,
    run: (stmt, params) => count(pglite, stmt, params),
    exec: async (script) => void (await pglite.exec(script)),
    transaction: (fn) =>
      pglite.transaction((tx) =>
        fn({
          query: (stmt, params) => on(tx, stmt, params) as Promise<never[]>,
          run: (stmt, params) => count(tx, stmt, params),
          exec: async (script) => void (await tx.exec(script)),
        }),
      ),
    async close() {
      await pglite.close()
      await onClose?.()
    },
  }
}
