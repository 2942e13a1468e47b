/**
 * A/B: the measured effect of a change to src/, on this machine, in one run.
 *
 *   AB_FILES=src/domain/oauth/tokens.ts,src/domain/payments/checkout.ts node --import tsx bench/ab.ts
 *
 * "before" is a copy of this project (bin, src, package.json; node_modules shared) in
 * which the AB_FILES are as in git revision AB_REV (HEAD); "after" is the work tree. Both
 * run as ROLE=api processes on one private database, and take the same load in
 * alternating stretches (A B B A …), so that a machine shared with other work weighs on
 * both alike: mints, then confirms (links minted and loaded beforehand).
 * Knobs: AB_ROUNDS (3), AB_SECONDS (5 per stretch), AB_CONNECTIONS (50), AB_ONLY (a comma
 * list of mint, page, confirm, webhooks; all by default), AB_BACKLOG (2000 deliveries per
 * webhook stretch, one ROLE=worker process), AB_BEFORE_DIR (a prepared copy of the project
 * to run as "before" instead, e.g. an experiment; it is not removed).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { ROOT, cannon, confirmRequest, cpuMeter, createBenchDb, insertBacklog, loadPages, log, mintRequest, pageRequest, preMint, runScript, seed, sleep, startPaylink, startReceiver, summarize, type BenchDb, type LoadResult } from './lib.js'

const FILES = (process.env.AB_FILES ?? '').split(',').filter(Boolean)
const REV = process.env.AB_REV ?? 'HEAD'
const ROUNDS = Number(process.env.AB_ROUNDS ?? 3)
const SECONDS = Number(process.env.AB_SECONDS ?? 5)
const CONNECTIONS = Number(process.env.AB_CONNECTIONS ?? 50)
const ONLY = new Set((process.env.AB_ONLY ?? 'mint,page,confirm,webhooks').split(','))
const BACKLOG = Number(process.env.AB_BACKLOG ?? 2000)

if (FILES.length === 0 && !process.env.AB_BEFORE_DIR) {
  process.stderr.write('AB_FILES=src/a.ts,src/b.ts: the files to take from AB_REV for "before"\n')
  process.exit(2)
}

/** A copy of the project with FILES as in REV (read with `git show`, which changes nothing). */
function beforeTree(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paylink-ab-'))
  for (const d of ['bin', 'src']) fs.cpSync(path.join(ROOT, d), path.join(dir, d), { recursive: true })
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'))
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'))
  for (const f of FILES) fs.writeFileSync(path.join(dir, f), execFileSync('git', ['show', `${REV}:${f}`], { cwd: ROOT }))
  return dir
}

async function tokenFor(baseUrl: string, clientId: string, clientSecret: string) {
  const r = await fetch(`${baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString(),
  })
  return ((await r.json()) as { access_token: string }).access_token
}

let bdb: BenchDb | undefined
let dir: string | undefined
await runScript(
  async () => {
    dir = process.env.AB_BEFORE_DIR ?? beforeTree()
    bdb = await createBenchDb()
    const key = randomBytes(32)
    const keyHex = key.toString('hex')
    let webhookSecret: string | undefined
    const receiver = await startReceiver(() => webhookSecret)
    const after = await startPaylink({ databaseUrl: bdb.url, encryptionKey: keyHex, role: 'api' })
    const before = await startPaylink({ databaseUrl: bdb.url, encryptionKey: keyHex, role: 'api', cwd: dir })
    const s = await seed(bdb.db, key, after.baseUrl, receiver.url)
    webhookSecret = s.webhookSecret
    const sides = [
      { name: 'before', p: before, token: await tokenFor(before.baseUrl, s.clientId, s.clientSecret) },
      { name: 'after', p: after, token: s.token },
    ]
    const mintReq = (token: string) => mintRequest(token, s.userId)
    type Runs = { mint: LoadResult[]; page: LoadResult[]; confirm: LoadResult[]; mintCpu: number[]; pageCpu: number[]; confirmCpu: number[]; webhooks: number[] }
    const out: Record<string, Runs> = {
      before: { mint: [], page: [], confirm: [], mintCpu: [], pageCpu: [], confirmCpu: [], webhooks: [] },
      after: { mint: [], page: [], confirm: [], mintCpu: [], pageCpu: [], confirmCpu: [], webhooks: [] },
    }
    const order = (round: number) => (round % 2 === 0 ? sides : [...sides].reverse())

    type Side = (typeof sides)[number]
    const db = bdb
    /**
     * `request` in alternating stretches on both sides, after a warm-up of `warmUpS` seconds:
     * throughput into out[side][what], CPU per request (server, or server and PostgreSQL) into
     * out[side][`${what}Cpu`]. Any answer other than 2xx stops the run; `hint` says why it may come.
     */
    const stretches = async (what: 'mint' | 'page' | 'confirm', request: (side: Side) => object, warmUpS: number, withPostgres: boolean, hint = '') => {
      for (const side of sides) await cannon({ title: 'warm-up', url: side.p.baseUrl, connections: CONNECTIONS, duration: warmUpS, requests: [request(side)] })
      for (let round = 0; round < ROUNDS; round++) {
        for (const side of order(round)) {
          const meter = await cpuMeter(side.p.proc.pid!, db.db, db.name)
          const r = await cannon({ title: `${what} ${side.name}`, url: side.p.baseUrl, connections: CONNECTIONS, duration: SECONDS, requests: [request(side)] })
          const c = await meter.stop()
          if (r.non2xx || r.errors) throw new Error(`${what} ${side.name}: ${r.non2xx} non-2xx, ${r.errors} errors${hint}`)
          const cpu = ((withPostgres ? c.server + c.postgres : c.server) * 1000) / r.total
          out[side.name]![what].push(r)
          out[side.name]![`${what}Cpu`].push(cpu)
          log(`  ${what} ${side.name.padEnd(6)} ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${withPostgres ? 'server+PostgreSQL' : 'server'} CPU ${cpu.toFixed(0)} µs/req`)
        }
      }
    }

    log(`${FILES.join(', ')} as in ${REV} ("before") vs the work tree ("after"); ${ROUNDS} rounds of ${SECONDS} s`)
    if (ONLY.has('mint')) await stretches('mint', (side) => mintReq(side.token), 2, false)

    // Page loads and confirms: links minted (and loaded) through "after"; each side uses its own share.
    if (ONLY.has('page')) {
      log('minting links for the page loads')
      const pageReq = pageRequest(await preMint(after.baseUrl, mintReq(s.token), (2 * ROUNDS * SECONDS + 2) * 2400))
      await stretches('page', () => pageReq, 1, false, ' (too few links?)')
    }

    if (ONLY.has('confirm')) {
      log('minting and loading links for the confirms')
      const tokens = await preMint(after.baseUrl, mintReq(s.token), (2 * ROUNDS * SECONDS + 2) * 700)
      const sessions = await loadPages(after.baseUrl, tokens, tokens.length - 40)
      log(`${sessions.length} loaded links`)
      const confirmReq = confirmRequest(sessions)
      await stretches('confirm', () => confirmReq, 1, true, ' (too few loaded links?)')
    }

    if (ONLY.has('webhooks')) {
      log(`webhooks: a backlog of ${BACKLOG} drained by one ROLE=worker process of each side`)
      const body = JSON.stringify({ type: 'payment_intent.succeeded', timestamp: new Date().toISOString(), data: { payment_intent_id: 'pi_bench', amount: '12.50', currency: 'USD', status: 'succeeded' } })
      for (let round = 0; round < ROUNDS; round++) {
        for (const side of order(round)) {
          const worker = await startPaylink({ databaseUrl: bdb.url, encryptionKey: keyHex, role: 'worker', ...(side.name === 'before' ? { cwd: dir } : {}) })
          await sleep(1500)
          const from = receiver.arrivals.length
          await insertBacklog(bdb.db, s.tenantId, s.endpointId, BACKLOG, body)
          const done = await receiver.waitForCount(from + BACKLOG, 120_000)
          const got = receiver.arrivals.slice(from)
          await worker.stop()
          if (!done) throw new Error(`webhooks ${side.name}: ${got.length} of ${BACKLOG} arrived`)
          const perSecond = (got.length - 1) / ((got[got.length - 1]!.at - got[0]!.at) / 1000)
          out[side.name]!.webhooks.push(perSecond)
          log(`  webhooks ${side.name.padEnd(6)} ${perSecond.toFixed(0)} deliveries/s`)
        }
      }
    }

    const rate = (rs: LoadResult[]) => rs.reduce((a, r) => a + r.total, 0) / rs.reduce((a, r) => a + r.durationS, 0)
    const med = (xs: number[]) => summarize(xs).p50
    const line = (what: string, key: 'mint' | 'page' | 'confirm', cpuKey: 'mintCpu' | 'pageCpu' | 'confirmCpu', cpuLabel: string) => {
      const b = out.before!
      const a = out.after!
      if (b[key].length === 0) return `| ${what} | not run | | |`
      return `| ${what} | ${rate(b[key]).toFixed(0)} /s, p99 ${med(b[key].map((r) => r.p99))} ms, ${med(b[cpuKey]).toFixed(0)} µs | ${rate(a[key]).toFixed(0)} /s, p99 ${med(a[key].map((r) => r.p99))} ms, ${med(a[cpuKey]).toFixed(0)} µs | ${((rate(a[key]) / rate(b[key]) - 1) * 100).toFixed(0)}% throughput, ${((med(a[cpuKey]) / med(b[cpuKey]) - 1) * 100).toFixed(0)}% ${cpuLabel} |`
    }
    process.stdout.write(
      [
        '',
        `A/B of ${FILES.join(', ')} (${REV} vs work tree), ${ROUNDS} × ${SECONDS} s alternating, ${CONNECTIONS} connections; throughput over all stretches, p99 and CPU the median stretch.`,
        '',
        '| path | before | after | change |',
        '|---|---|---|---|',
        line('mint (CPU: paylink process per request)', 'mint', 'mintCpu', 'server CPU'),
        line('page load (CPU: paylink process per request)', 'page', 'pageCpu', 'server CPU'),
        line('confirm (CPU: paylink + PostgreSQL per request)', 'confirm', 'confirmCpu', 'CPU'),
        out.before!.webhooks.length
          ? `| webhooks, 1 worker, backlog of ${BACKLOG} (median stretch) | ${med(out.before!.webhooks).toFixed(0)} deliveries/s | ${med(out.after!.webhooks).toFixed(0)} deliveries/s | ${((med(out.after!.webhooks) / med(out.before!.webhooks) - 1) * 100).toFixed(0)}% |`
          : '| webhooks | not run | | |',
        '',
      ].join('\n'),
    )
    await receiver.close()
  },
  async () => {
    await bdb?.drop()
    if (dir && !process.env.AB_BEFORE_DIR) fs.rmSync(dir, { recursive: true, force: true })
  },
)
