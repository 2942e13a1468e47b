/**
 * `npm run bench -- startup`: how fast paylink starts from the compiled build (issue 13
 * item 3). Targets: `paylink tenant list --json` on PostgreSQL ≤ 1.0 s; `npm start` on an
 * existing embedded database to `/healthz` 200 ≤ 4 s. Each is run RUNS times (the median
 * and the worst are reported), from the build (`npm run build` first) and, for comparison,
 * from the sources (PAYLINK_FROM_SOURCE=1, through tsx and esbuild at start). Results go to
 * BENCHMARKS.md between the `bench:startup` markers.
 */
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { ROOT, freePort, log, writeBenchmarkSection } from './lib.js'

const RUNS = 5
const ADMIN = process.env.BENCH_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6

function cli(args: string[], env: Record<string, string>): number {
  const t0 = process.hrtime.bigint()
  execFileSync(process.execPath, ['bin/paylink.mjs', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'ignore' })
  return ms(t0)
}

async function startToHealthy(env: Record<string, string>, port: number): Promise<number> {
  const t0 = process.hrtime.bigint()
  const child = spawn('npm', ['start'], { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' }, stdio: 'ignore' })
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status === 200, () => false)
      if (ok) return ms(t0)
      if (ms(t0) > 60_000) throw new Error('npm start did not answer /healthz within 60 s')
      await new Promise((r) => setTimeout(r, 20))
    }
  } finally {
    const gone = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    await gone
  }
}

async function main() {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' })
  const name = `paylink_bench_startup_${randomBytes(3).toString('hex')}`
  const admin = new pg.Client({ connectionString: ADMIN })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(ADMIN)
  url.pathname = `/${name}`
  const pgEnv = { DATABASE_URL: url.toString(), DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64') }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'paylink-bench-startup-'))
  try {
    cli(['migrate'], pgEnv)
    cli(['tenant', 'create', '--name', 'Bench', '--origin', 'https://bench.example', '--json'], pgEnv)
    const list = { build: [] as number[], source: [] as number[] }
    for (let i = 0; i < RUNS; i++) {
      list.build.push(cli(['tenant', 'list', '--json'], pgEnv))
      list.source.push(cli(['tenant', 'list', '--json'], { ...pgEnv, PAYLINK_FROM_SOURCE: '1' }))
    }
    const port = await freePort()
    const embedded = { DATA_DIR: dataDir, DEMO_PORT: String(await freePort()) }
    const first = await startToHealthy(embedded, port) // makes the database and the demo tenant
    const start = { build: [] as number[], source: [] as number[] }
    for (let i = 0; i < RUNS; i++) {
      start.build.push(await startToHealthy(embedded, port))
      start.source.push(await startToHealthy({ ...embedded, PAYLINK_FROM_SOURCE: '1' }, port))
    }
    const row = (what: string, xs: { build: number[]; source: number[] }, target: number) =>
      `| ${what} | **${median(xs.build).toFixed(0)} ms** (worst ${Math.max(...xs.build).toFixed(0)}) | ${median(xs.source).toFixed(0)} ms | ≤ ${target} ms: ${median(xs.build) <= target ? 'met' : 'missed'} |`
    const text = [
      `Run of ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; median of ${RUNS}.`,
      '',
      '| | compiled build | from the sources (tsx) | target |',
      '|---|---|---|---|',
      row('`paylink tenant list --json`, PostgreSQL', list, 1000),
      row('`npm start` to `/healthz` 200, existing embedded database', start, 4000),
      '',
      `A new embedded database (initdb, migrations, the demo tenant) took ${first.toFixed(0)} ms to /healthz from the build.`,
    ].join('\n')
    log(`\n${text}`)
    if (process.env.BENCH_WRITE !== '0' && writeBenchmarkSection('startup', text)) log('results written to BENCHMARKS.md')
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  }
  process.exit(0)
}

await main()
