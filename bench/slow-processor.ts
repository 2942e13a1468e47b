/**
 * `npm run bench -- slow-processor` (or `node --import tsx bench/slow-processor.ts`):
 * confirms against a slow processor. The targets: with the Stripe fake answering
 * each call after 250 ms and 200 confirms in flight, throughput is at least 80% of the same
 * run against an instant fake and no request fails (the processor's latency is hidden, not
 * serialised: the call holds no database connection, so the pool of 10 never caps it); with
 * 20 in flight, paylink adds at most 25 ms at p99 over the fake's own latency.
 * 200 in flight at L per confirm can never give more than 200 ÷ L confirms per second
 * (Little's law; 800/s at 250 ms): should paylink confirm faster than that on the instant
 * fake, "slow ÷ instant" measures that cap, so the report also gives the slow run against
 * the lower of the instant run and the cap — how much of what the latency allows is used.
 *
 * paylink runs as in `npm run bench` (`ROLE=api`, its own PostgreSQL database, pool of 10);
 * its tenant's one account is a Stripe account whose `api_base` is the Stripe fake of the
 * tests (test/fakes/stripe.ts), run as a process of its own (bench/stripe-fake.ts). A
 * Stripe payment is two calls: the PaymentIntent is created when the page opens (paylink
 * does it in the background while the shopper types), and confirmed with the card after
 * Pay. Each confirm has its own link and page session, loaded before the stretch (and its
 * PaymentIntent made, the fake answering at once), so a confirm is one call: L.
 *
 *  1. 200 in flight: the instant fake and the slow one in alternating stretches (instant,
 *     slow, slow, instant; SLOW_ROUNDS times). Throughput is the answers counted from the
 *     end of each stretch's first second (a slow pipeline needs L to give its first
 *     answer), and as a check Little's law: in flight ÷ mean time (answers come in waves
 *     of up to 200, which a count over a window cuts). Every answer is read. The fake alone
 *     (the `stripe` SDK in this process, 200 at a time) shows its own ceiling.
 *  2. 20 in flight: the fake alone (its own time per confirm: the `stripe` SDK confirming
 *     PaymentIntents made beforehand), paylink on the slow fake, and paylink on the instant
 *     fake one confirm at a time (paylink's own time per confirm), alternating (SLOW_ROUNDS
 *     times). "paylink adds" is paylink's p99 less L, and less the fake's own measured p99.
 * While paylink is loaded, PostgreSQL is sampled every 250 ms: the bench database's
 * connections `active` and `idle in transaction`, and the intents in `processing`; and
 * paylink's event loop is timed (bench/loop-delay.mjs): how late it runs when it waits for
 * nothing but a CPU.
 *
 * Results are printed and written into BENCHMARKS.md between its slow-processor markers
 * (BENCH_WRITE=0 to skip). Knobs: BENCH_SECONDS (10 per stretch), BENCH_WARMUP_SECONDS (2),
 * SLOW_LATENCY_MS (250 per call), SLOW_IN_FLIGHT (200), SLOW_IN_FLIGHT_LOW (20),
 * SLOW_OWN_IN_FLIGHT (1), SLOW_ROUNDS (2), SLOW_ONLY (`high` or `low`: one part only, for
 * a diagnosis; nothing is written), SLOW_CPU_PROF=<dir> (paylink runs with `--cpu-prof`
 * into that directory), BENCH_JSON=<file>, PAYLINK_BENCH_ADMIN_URL.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import Stripe from 'stripe'
import {
  ROOT,
  writeBenchmarkSection,
  SANDBOX_CARD,
  cannon,
  confirmRequest,
  cpuMeter,
  createBenchDb,
  loadPages,
  log,
  machine,
  mintRequest,
  preMint,
  processCpuMs,
  runScript,
  seed,
  sleep,
  startChild,
  startPaylink,
  startReceiver,
  summarize,
  type BenchDb,
  type CpuSplit,
  type LoadedPage,
  type LoadResult,
  type Seeded,
} from './lib.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 2)
const LATENCY = Number(process.env.SLOW_LATENCY_MS ?? 250)
const HIGH = Number(process.env.SLOW_IN_FLIGHT ?? 200)
const LOW = Number(process.env.SLOW_IN_FLIGHT_LOW ?? 20)
const OWN = Number(process.env.SLOW_OWN_IN_FLIGHT ?? 1)
const ROUNDS = Number(process.env.SLOW_ROUNDS ?? 2)
const ONLY = process.env.SLOW_ONLY as 'high' | 'low' | undefined
const CPU_PROF = process.env.SLOW_CPU_PROF
/** Fake calls per confirm: the confirm with the card (the PaymentIntent was made when the page opened). */
const CALLS = 1
/** The start of a stretch not counted for throughput: the pipeline filling. */
const FILL_S = 1
const SAMPLE_MS = 250

interface FakeInfo {
  url: string
  secretKey: string
  webhookSecret: string
  control: string
}

/** What one stretch of load measured. */
interface Stretch {
  label: string
  latencyMs: number
  inFlight: number
  seconds: number
  /** Answers from the end of the first second on, per second. */
  steadyRps: number
  /** Every answer's time, ms. */
  times: number[]
  completed: number
  outcomes: Record<string, number>
  failures: number
  ranOut: boolean
  load?: LoadResult
  cpu: CpuSplit & { fake: number; machineBusy: number }
  db?: DbSample
  /** How late paylink's event loop ran, ms. */
  loopDelay?: LoopDelay
}

interface LoopDelay {
  p50: number
  p99: number
  max: number
}

interface DbSample {
  samples: number
  maxActive: number
  meanActive: number
  maxInTransaction: number
  meanInTransaction: number
  maxProcessing: number
  meanProcessing: number
}

const started = Date.now()
const results: Record<string, any> = {}
let bdb: BenchDb | undefined

await runScript(
  async () => {
    const m = await machine()
    results.machine = m
    log(`machine: ${m.nproc} CPUs (${m.cpu}), Node ${m.node}, PostgreSQL ${m.postgres}, load ${m.loadavg.join(' ')}`)
    bdb = await createBenchDb()
    const db = bdb.db
    log(`database ${bdb.name}`)

    const fakeProc = startChild('stripe fake', ['--import', 'tsx', 'bench/stripe-fake.ts'], {})
    await fakeProc.waitFor(/stripe fake \{.*\}\n/)
    const fake = JSON.parse(/stripe fake (\{.*\})\n/.exec(fakeProc.output())![1]!) as FakeInfo
    const setLatency = async (ms: number) => {
      const r = await fetch(`${fake.control}/latency/${ms}`, { method: 'POST' })
      if (r.status !== 204) throw new Error(`the fake refused latency ${ms}: ${r.status}`)
    }
    const fakeCalls = async () => ((await (await fetch(`${fake.control}/stats`)).json()) as { requests: number }).requests
    log(`Stripe fake at ${fake.url} (its own process)`)

    const key = randomBytes(32)
    let webhookSecret: string | undefined
    const receiver = await startReceiver(() => webhookSecret)
    const api = await startPaylink({ databaseUrl: bdb.url, encryptionKey: key.toString('hex'), role: 'api', nodeArgs: ['--import', './bench/loop-delay.mjs', ...(CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : [])] })
    let loopMarks = 0
    /** Ends paylink's current loop-delay period (bench/loop-delay.mjs) and starts another: how late it ran since the previous mark. */
    const loopDelay = async (): Promise<LoopDelay> => {
      const n = loopMarks++
      const line = new RegExp(`loop-delay ${n} (\\{[^\\n]*\\})\\n`)
      api.proc.kill('SIGUSR2')
      for (let i = 0; i < 1000; i++) {
        const found = line.exec(api.output())
        if (found) return JSON.parse(found[1]!) as LoopDelay
        await sleep(10)
      }
      throw new Error(`paylink printed no loop delay ${n}:\n${api.output()}`)
    }
    const s: Seeded = await seed(db, key, api.baseUrl, receiver.url, {
      account: { processor: 'stripe', config: { secret_key: fake.secretKey, webhook_secret: fake.webhookSecret, api_base: fake.url } },
    })
    webhookSecret = s.webhookSecret
    log(`paylink (ROLE=api) at ${api.baseUrl}; the tenant's account is Stripe, on the fake`)

    // ------------------------------------------------------------ links and pages
    const pages: LoadedPage[] = []
    const mint = mintRequest(s.token, s.userId)
    /** At least `n` loaded pages in the pool: minted and loaded between stretches, never during one. */
    const ensurePages = async (n: number) => {
      if (pages.length >= n) return
      const more = Math.ceil((n - pages.length) * 1.05) + 50
      log(`  minting and loading ${more} more links`)
      await setLatency(0)
      const tokens = await preMint(api.baseUrl, mint, more)
      pages.push(...(await loadPages(api.baseUrl, tokens, tokens.length)))
      if (pages.length < n) throw new Error(`only ${pages.length} of ${n} pages loaded`)
      // Each page load made its PaymentIntent in the background: all made before a stretch starts.
      for (let i = 0; ; i++) {
        const [r] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM payment_intents WHERE status = 'pending' AND link_session_hash IS NOT NULL AND processor_reference IS NULL`)
        if (r!.n === 0) break
        if (i > 600) throw new Error(`${r!.n} opened pages without their PaymentIntent after 60 s`)
        await sleep(100)
      }
    }

    const processing = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM payment_intents WHERE status = 'processing'`))[0]!.n
    /** Waits for confirms still running on the server (a stretch leaves some in flight). */
    const drain = async () => {
      for (let i = 0; i < 300; i++) {
        if ((await processing()) === 0) return
        await sleep(100)
      }
      throw new Error('confirms still processing 30 s after a stretch')
    }

    /** PostgreSQL every SAMPLE_MS: the bench database's connections busy and in a transaction (the sampler's own left out), intents in processing. */
    const sampleDb = () => {
      const rows: { active: number; in_tx: number; processing: number }[] = []
      let on = true
      const loop = (async () => {
        while (on) {
          const [r] = await db.query<{ active: number; in_tx: number; processing: number }>(
            `SELECT (SELECT count(*)::int FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND state = 'active') AS active,
                    (SELECT count(*)::int FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%') AS in_tx,
                    (SELECT count(*)::int FROM payment_intents WHERE status = 'processing') AS processing`,
            [bdb!.name],
          )
          rows.push(r!)
          await sleep(SAMPLE_MS)
        }
      })()
      return async (): Promise<DbSample> => {
        on = false
        await loop
        const mean = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0) / Math.max(1, rows.length)
        return {
          samples: rows.length,
          maxActive: Math.max(0, ...rows.map((r) => r.active)),
          meanActive: mean((r) => r.active),
          maxInTransaction: Math.max(0, ...rows.map((r) => r.in_tx)),
          meanInTransaction: mean((r) => r.in_tx),
          maxProcessing: Math.max(0, ...rows.map((r) => r.processing)),
          meanProcessing: mean((r) => r.processing),
        }
      }
    }

    const meter = async () => {
      const pg = await cpuMeter(api.proc.pid!, db, bdb!.name)
      const fake0 = processCpuMs(fakeProc.proc.pid!)
      const machine0 = machineTicks()
      return async () => ({ ...(await pg.stop()), fake: processCpuMs(fakeProc.proc.pid!) - fake0, machineBusy: machineBusy(machine0, machineTicks()) })
    }

    /** Confirms with the 4242 card, `inFlight` at a time, for `seconds`, the fake answering each call after `latencyMs`. */
    const confirmStretch = async (label: string, latencyMs: number, inFlight: number, seconds: number, expectedRps: number): Promise<Stretch> => {
      await ensurePages(Math.ceil(expectedRps * seconds * 1.5) + inFlight)
      await drain()
      await setLatency(latencyMs)
      const outcomes: Record<string, number> = {}
      const times: number[] = []
      const arrivals: number[] = []
      // Once the pool is empty the rest of the stretch's requests go to /pay/ran-out (404): not counted.
      let ranOut = false
      let ranOutAt = Infinity
      let inst: { stop(): void } | undefined
      const stopMeter = await meter()
      const stopSampler = sampleDb()
      await loopDelay()
      const t0 = performance.now()
      const load = await cannon(
        {
          title: label,
          url: api.baseUrl,
          connections: inFlight,
          duration: seconds,
          requests: [
            {
              ...confirmRequest(pages, () => {
                if (!ranOut) ranOutAt = performance.now()
                ranOut = true
                setImmediate(() => inst?.stop())
              }),
              onResponse: (status: number, body: string) => {
                if (ranOut) return
                const k = status === 200 ? (JSON.parse(body) as { data: { status: string } }).data.status : `http_${status}`
                outcomes[k] = (outcomes[k] ?? 0) + 1
              },
            },
          ],
        },
        (i) => {
          inst = i
          i.on('response', (_c, _status, _bytes, ms) => {
            if (ranOut) return
            times.push(ms)
            arrivals.push(performance.now())
          })
        },
      )
      const t1 = Math.min(performance.now(), ranOutAt)
      const loop = await loopDelay()
      const dbs = await stopSampler()
      const cpu = await stopMeter()
      const steady = arrivals.filter((a) => a >= t0 + FILL_S * 1000).length / ((t1 - t0) / 1000 - FILL_S)
      // Every answer is in `outcomes` (a non-2xx as http_<status>); errors and timeouts had none.
      const failures = load.errors + load.timeouts + Object.entries(outcomes).reduce((a, [k, n]) => (k === 'succeeded' ? a : a + n), 0)
      await drain()
      const st: Stretch = {
        label,
        latencyMs,
        inFlight,
        seconds: (t1 - t0) / 1000,
        steadyRps: steady,
        times,
        completed: times.length,
        outcomes,
        failures,
        ranOut,
        load,
        cpu,
        db: dbs,
        loopDelay: loop,
      }
      log(`  ${fmtStretch(st)}`)
      if (ONLY) log(`    the first ${inFlight} answers: ${times.slice(0, inFlight).map(ms).join(' ')}; the rest p99 ${ms(summarize(times.slice(inFlight)).p99)}`)
      return st
    }

    /**
     * The fake alone: the `stripe` SDK in this process confirms PaymentIntents with the card as
     * paylink's adapter does, `concurrency` at a time; the PaymentIntents are created first
     * (the fake answering at once), as paylink's page loads create them.
     */
    const sdk = new Stripe(fake.secretKey, { host: new URL(fake.url).hostname, port: Number(new URL(fake.url).port), protocol: 'http', maxNetworkRetries: 0, telemetry: false })
    let directN = 0
    let directConfirms = 0
    const directStretch = async (label: string, latencyMs: number, concurrency: number, seconds: number): Promise<Stretch> => {
      await setLatency(0)
      const made: string[] = []
      const wanted = Math.ceil(((concurrency * seconds * 1000) / Math.max(1, CALLS * latencyMs)) * 1.3) + concurrency
      for (let i = 0; i < wanted; i += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, wanted - i) }, async () => {
            const id = `pi_bench${(directN++).toString().padStart(8, '0')}`
            made.push((await sdk.paymentIntents.create({ amount: 1250, currency: 'usd', metadata: { payment_intent_id: id } }, { idempotencyKey: `${id}:create` })).id)
          }),
        )
      }
      await setLatency(latencyMs)
      const times: number[] = []
      const arrivals: number[] = []
      let failures = 0
      const stopMeter = await meter()
      const t0 = performance.now()
      const end = t0 + seconds * 1000
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < end) {
            const pi = made.pop()
            if (!pi) throw new Error(`the fake alone ran out of PaymentIntents (${wanted} made)`)
            const a = performance.now()
            try {
              const done = await sdk.paymentIntents.confirm(
                pi,
                {
                  return_url: `http://127.0.0.1/pay/x/return?state=${pi}`,
                  payment_method_data: {
                    type: 'card',
                    card: { number: SANDBOX_CARD.number, exp_month: SANDBOX_CARD.exp_month, exp_year: SANDBOX_CARD.exp_year, cvc: SANDBOX_CARD.cvc },
                  } as unknown as Stripe.PaymentIntentConfirmParams.PaymentMethodData,
                },
                { idempotencyKey: `${pi}:confirm` },
              )
              directConfirms++
              if (done.status !== 'succeeded') failures++
            } catch {
              failures++
            }
            const z = performance.now()
            times.push(z - a)
            arrivals.push(z)
          }
        }),
      )
      const t1 = performance.now()
      const cpu = await stopMeter()
      const st: Stretch = {
        label,
        latencyMs,
        inFlight: concurrency,
        seconds: (t1 - t0) / 1000,
        steadyRps: arrivals.filter((a) => a >= t0 + FILL_S * 1000).length / ((t1 - t0) / 1000 - FILL_S),
        times,
        completed: times.length,
        outcomes: {},
        failures,
        ranOut: false,
        cpu,
      }
      log(`  ${fmtStretch(st)}`)
      return st
    }

    // ------------------------------------------------------------ smoke
    await ensurePages(Math.max(500, Math.ceil(WARMUP * 400)))
    {
      const p = pages.pop()!
      const r = await fetch(`${api.baseUrl}/pay/${p.token}/confirm`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-paylink-session': p.session },
        body: JSON.stringify({ card: SANDBOX_CARD }),
      })
      const body = (await r.json()) as { data?: { status: string } }
      if (r.status !== 200 || body.data?.status !== 'succeeded') throw new Error(`a confirm on the Stripe fake answered ${r.status} ${JSON.stringify(body)}`)
      log(`smoke: one confirm on the Stripe fake succeeded (${await fakeCalls()} fake calls)`)
    }

    // ------------------------------------------------------------ 1. 200 in flight
    const high: Stretch[] = []
    let fakeHigh: Stretch | undefined
    if (ONLY !== 'low') {
      const slowRps = HIGH / ((CALLS * LATENCY) / 1000)
      log(`1. ${HIGH} in flight: warm-up ${WARMUP} s on the instant fake`)
      const warm = await confirmStretch('warm-up, instant', 0, HIGH, WARMUP, 400)
      // The fastest instant stretch so far: how many pages the next one may need.
      let instantRps = Math.max(100, warm.steadyRps || warm.completed / warm.seconds)
      log(`1. ${HIGH} in flight: instant fake and ${LATENCY} ms per call, ${SECONDS} s stretches, alternating`)
      for (const slow of Array.from({ length: ROUNDS }, () => [false, true, true, false]).flat()) {
        if (slow) high.push(await confirmStretch(`${HIGH} in flight, fake ${LATENCY} ms/call`, LATENCY, HIGH, SECONDS, slowRps))
        else {
          const st = await confirmStretch(`${HIGH} in flight, instant fake`, 0, HIGH, SECONDS, instantRps * 1.3)
          instantRps = Math.max(instantRps, st.steadyRps)
          high.push(st)
        }
      }
      log(`   the fake alone, ${HIGH} at a time, ${LATENCY} ms per call`)
      fakeHigh = await directStretch(`fake alone, ${HIGH} at a time`, LATENCY, HIGH, Math.min(SECONDS, 5))
    }

    // ------------------------------------------------------------ 2. 20 in flight
    log(`2. ${LOW} in flight: the fake alone, paylink on the slow fake; paylink on the instant fake ${OWN} at a time; ${SECONDS} s stretches, alternating`)
    const low: { fake: Stretch[]; slow: Stretch[]; own: Stretch[] } = { fake: [], slow: [], own: [] }
    for (const which of Array.from({ length: ONLY === 'high' ? 0 : ROUNDS }, () => ['fake', 'slow', 'own', 'own', 'slow', 'fake'] as const).flat()) {
      if (which === 'fake') low.fake.push(await directStretch(`fake alone, ${LOW} at a time`, LATENCY, LOW, SECONDS))
      else if (which === 'slow') low.slow.push(await confirmStretch(`${LOW} in flight, fake ${LATENCY} ms/call`, LATENCY, LOW, SECONDS, LOW / ((CALLS * LATENCY) / 1000)))
      // Room for a confirm every 2.5 ms each.
      else low.own.push(await confirmStretch(`${OWN} in flight, instant fake`, 0, OWN, SECONDS, OWN * 400))
    }

    // ------------------------------------------------------------ checks
    await drain()
    const [tally] = await db.query<{ succeeded: number; other: number; with_ref: number; opened: number }>(
      `SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
              count(*) FILTER (WHERE link_session_hash IS NOT NULL)::int AS opened,
              count(*) FILTER (WHERE status NOT IN ('succeeded', 'pending'))::int AS other,
              count(*) FILTER (WHERE status = 'succeeded' AND processor_reference IS NOT NULL)::int AS with_ref
       FROM payment_intents`,
    )
    const calls = await fakeCalls()
    // The direct PaymentIntents made a create each (and a confirm each of those confirmed); the rest came from paylink: a create per page opened, a confirm per confirm it ran (the smoke test's and those still in flight at a stretch's end included).
    results.tally = { ...tally, fakeCalls: calls, directPayments: directN, directConfirms, paylinkCallsPerPageAndPayment: (calls - directN - directConfirms) / (tally!.opened + tally!.succeeded) }
    log(`  intents succeeded ${tally!.succeeded} (with a Stripe reference ${tally!.with_ref}), other final or waiting ${tally!.other}; fake calls ${results.tally.fakeCalls} (${directN} direct payments)`)

    if (ONLY) {
      for (const [k, xs] of Object.entries({ high, 'low, fake alone': low.fake, 'low, slow': low.slow, 'low, own': low.own })) {
        if (!xs.length) continue
        const t = summarize(xs.flatMap((x) => x.times))
        const all = xs.flatMap((x) => x.times).sort((a, b) => a - b)
        const q = (f: number) => ms(all[Math.min(all.length - 1, Math.floor(f * all.length))]!)
        log(`${k}: p50 ${ms(t.p50)} ms, p90 ${q(0.9)}, p95 ${q(0.95)}, p99 ${ms(t.p99)} ms over ${xs.length} stretches; the slowest: ${all.slice(-12).map(ms).join(' ')}`)
      }
      await api.stop()
      await fakeProc.stop()
      await receiver.close()
      return
    }
    const pooled = (xs: Stretch[]) => {
      const completed = xs.reduce((a, x) => a + x.completed, 0)
      const steadyS = xs.reduce((a, x) => a + x.seconds - FILL_S, 0)
      const steadyN = xs.reduce((a, x) => a + x.steadyRps * (x.seconds - FILL_S), 0)
      const cpu = xs.reduce((a, x) => ({ server: a.server + x.cpu.server, postgres: a.postgres + x.cpu.postgres, loadGenerator: a.loadGenerator + x.cpu.loadGenerator, fake: a.fake + x.cpu.fake }), { server: 0, postgres: 0, loadGenerator: 0, fake: 0 })
      const machineBusy = xs.reduce((a, x) => a + x.cpu.machineBusy * x.seconds, 0) / xs.reduce((a, x) => a + x.seconds, 0)
      const seconds = xs.reduce((a, x) => a + x.seconds, 0)
      const all = xs.flatMap((x) => x.times)
      return {
        stretches: xs.length,
        completed,
        rps: steadyN / steadyS,
        /** Little's law: in flight ÷ mean time per answer. */
        littleRps: (xs[0]!.inFlight * 1000) / (all.reduce((a, t) => a + t, 0) / Math.max(1, all.length)),
        rpsEach: xs.map((x) => x.steadyRps),
        times: summarize(all),
        failures: xs.reduce((a, x) => a + x.failures, 0),
        outcomes: xs.reduce<Record<string, number>>((a, x) => {
          for (const [k, n] of Object.entries(x.outcomes)) a[k] = (a[k] ?? 0) + n
          return a
        }, {}),
        non2xx: xs.reduce((a, x) => a + Object.entries(x.outcomes).reduce((b, [k, n]) => (k.startsWith('http_') ? b + n : b), 0), 0),
        errors: xs.reduce((a, x) => a + (x.load?.errors ?? 0) + (x.load?.timeouts ?? 0), 0),
        ranOut: xs.some((x) => x.ranOut),
        cpuPerPaymentUs: { server: (cpu.server * 1000) / completed, postgres: (cpu.postgres * 1000) / completed, fake: (cpu.fake * 1000) / completed, loadGenerator: (cpu.loadGenerator * 1000) / completed },
        /** Share of the machine's cores used by paylink, PostgreSQL backends, the fake and the load generator together. */
        coresBusy: (cpu.server + cpu.postgres + cpu.fake + cpu.loadGenerator) / 1000 / seconds,
        /** The whole machine's cores busy (every process, other work included). */
        machineBusy,
        db: xs[0]?.db
          ? {
              maxActive: Math.max(...xs.map((x) => x.db!.maxActive)),
              meanActive: xs.reduce((a, x) => a + x.db!.meanActive, 0) / xs.length,
              maxInTransaction: Math.max(...xs.map((x) => x.db!.maxInTransaction)),
              meanInTransaction: xs.reduce((a, x) => a + x.db!.meanInTransaction, 0) / xs.length,
              maxProcessing: Math.max(...xs.map((x) => x.db!.maxProcessing)),
              meanProcessing: xs.reduce((a, x) => a + x.db!.meanProcessing, 0) / xs.length,
            }
          : undefined,
        /** The worst stretch's. */
        loopDelay: xs[0]?.loopDelay ? { p50: Math.max(...xs.map((x) => x.loopDelay!.p50)), p99: Math.max(...xs.map((x) => x.loopDelay!.p99)), max: Math.max(...xs.map((x) => x.loopDelay!.max)) } : undefined,
      }
    }
    const instantHigh = pooled(high.filter((x) => x.latencyMs === 0))
    const slowHigh = pooled(high.filter((x) => x.latencyMs > 0))
    results.high = { instant: instantHigh, slow: slowHigh, ratio: slowHigh.rps / instantHigh.rps, littleRatio: slowHigh.littleRps / instantHigh.littleRps, fakeAlone: pooled([fakeHigh!]) }
    const fakeLow = pooled(low.fake)
    const slowLow = pooled(low.slow)
    results.low = {
      fakeAlone: fakeLow,
      slow: slowLow,
      own: pooled(low.own),
      addsOverNominalP99: slowLow.times.p99 - CALLS * LATENCY,
      addsOverFakeP99: slowLow.times.p99 - fakeLow.times.p99,
      addsOverNominalP50: slowLow.times.p50 - CALLS * LATENCY,
      addsOverFakeP50: slowLow.times.p50 - fakeLow.times.p50,
    }
    results.machineAfter = { loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100) }
    results.elapsedS = Math.round((Date.now() - started) / 1000)
    await api.stop()
    await fakeProc.stop()
    await receiver.close()

    const text = report(results)
    process.stdout.write('\n' + text + '\n')
    if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify(results, null, 2))
    if (process.env.BENCH_WRITE !== '0' && writeBenchmarkSection('slow-processor', text)) log('results written to BENCHMARKS.md')
  },
  async () => {
    await bdb?.drop().catch((err) => log(`could not drop ${bdb?.name}: ${(err as Error).message}`))
  },
)

// ---------------------------------------------------------------- machine

/** The machine's CPU time so far from /proc/stat (every core): busy and in all, in ticks. */
function machineTicks() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  const total = f.slice(0, 8).reduce((a, v) => a + v, 0) // user … steal; guest time is inside user
  const idle = f[3]! + f[4]! // idle + iowait
  return { total, busy: total - idle }
}

/** Cores busy between two readings (2 = both of two cores all the time). */
function machineBusy(a: { total: number; busy: number }, b: { total: number; busy: number }) {
  return ((b.busy - a.busy) / Math.max(1, b.total - a.total)) * os.availableParallelism()
}

// ---------------------------------------------------------------- report

// Declarations, not constants: the script's body above runs before this point is reached.
function ms(v: number) {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)
}
function signed(v: number) {
  return `${v >= 0 ? '+' : '−'}${ms(Math.abs(v))}`
}

function fmtStretch(s: Stretch) {
  const t = summarize(s.times)
  const outcomes = Object.keys(s.outcomes).length ? ` ${JSON.stringify(s.outcomes)}` : ''
  const dbs = s.db ? `; db active ≤ ${s.db.maxActive}, in transaction ≤ ${s.db.maxInTransaction}, processing ≤ ${s.db.maxProcessing} (mean ${s.db.meanProcessing.toFixed(0)})` : ''
  return `${s.label}: ${s.steadyRps.toFixed(0)} payments/s after ${FILL_S} s, p50 ${ms(t.p50)} ms, p99 ${ms(t.p99)} ms (${s.completed} answers, ${s.failures} failed)${outcomes}${dbs}${s.ranOut ? ' (pool ran out)' : ''}`
}

function report(r: any): string {
  const m = r.machine
  const pass = (ok: boolean) => (ok ? 'met' : '**not met**')
  const nominal = CALLS * LATENCY
  /** Payments per second that HIGH in flight can give at the nominal time per payment, whatever the server. */
  const ceiling = HIGH / (nominal / 1000)
  const fmtRun = (x: any) =>
    `**${x.rps.toFixed(0)} payments/s** (stretches ${x.rpsEach.map((v: number) => v.toFixed(0)).join(', ')}; by Little's law ${x.littleRps.toFixed(0)}), p50 ${ms(x.times.p50)} ms, p99 ${ms(x.times.p99)} ms; ${x.completed} answers, ${x.failures} failed (${JSON.stringify(x.outcomes).replace(/"/g, '')}, ${x.non2xx} non-2xx, ${x.errors} errors or timeouts)${x.ranOut ? ', cut short: page pool empty' : ''}`
  const cpu = (x: any) => `paylink ${Math.round(x.cpuPerPaymentUs.server)} µs, PostgreSQL backends (autovacuum's included) ${Math.round(x.cpuPerPaymentUs.postgres)} µs, fake ${Math.round(x.cpuPerPaymentUs.fake)} µs, load generator ${Math.round(x.cpuPerPaymentUs.loadGenerator)} µs per payment; ${x.coresBusy.toFixed(2)} of ${m.nproc} cores busy with these, ${x.machineBusy.toFixed(2)} with everything on the machine`
  const loop = (x: any) => `${ms(x.loopDelay.p50)} / ${ms(x.loopDelay.p99)} / ${ms(x.loopDelay.max)} ms`
  const h = r.high
  const l = r.low
  const noFailures = h.slow.failures === 0 && h.instant.failures === 0
  const lines = [
    `Run ${new Date(started).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${r.elapsedS} s in all (\`npm run bench -- slow-processor\`). Machine: ${m.nproc} vCPUs (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}, PostgreSQL ${m.postgres} (stock settings). Load average at start ${m.loadavg.join(' / ')}, at end ${r.machineAfter.loadavg.join(' / ')}. paylink \`ROLE=api\` on PostgreSQL (pool of 10), one Stripe account on the Stripe fake (its own process); the fake's latency is **${LATENCY} ms per call**; a payment's PaymentIntent is created when its page opens (pages are loaded between stretches, the fake answering at once), so after Pay a payment is ${CALLS} call (the confirm with the card) and the fake's own time per confirm is **${nominal} ms** by construction. ${SECONDS} s stretches, alternating; throughput counted after each stretch's first ${FILL_S} s; percentiles over every answer of the stretches pooled.`,
    '',
    '| what | figure | target |',
    '|---|---|---|',
    `| confirm, instant fake, ${HIGH} in flight (${h.instant.stretches} stretches) | ${fmtRun(h.instant)} | |`,
    `| confirm, fake at ${LATENCY} ms per call, ${HIGH} in flight (${h.slow.stretches} stretches) | ${fmtRun(h.slow)} | |`,
    `| slow ÷ instant, ${HIGH} in flight | throughput **${(h.ratio * 100).toFixed(0)}%** (by Little's law ${(h.littleRatio * 100).toFixed(0)}%); failed requests ${h.slow.failures + h.instant.failures} | ≥ 80%: ${pass(h.ratio >= 0.8)}; none fail: ${pass(noFailures)} |`,
    // Little's law caps any implementation at in-flight ÷ time per payment: once the instant run is faster than that, "slow ÷ instant" measures the cap, not paylink.
    `| slow ÷ what ${HIGH} in flight allow: the lower of the instant run and ${HIGH} ÷ ${nominal} ms = ${ceiling.toFixed(0)}/s | throughput **${((h.slow.rps / Math.min(h.instant.rps, ceiling)) * 100).toFixed(0)}%** | ≥ 80%: ${pass(h.slow.rps / Math.min(h.instant.rps, ceiling) >= 0.8)} |`,
    `| the fake alone, ${HIGH} at a time, ${LATENCY} ms per call (stripe SDK → fake, no paylink) | ${h.fakeAlone.littleRps.toFixed(0)} payments/s (Little's law), p50 ${ms(h.fakeAlone.times.p50)} ms, p99 ${ms(h.fakeAlone.times.p99)} ms (${h.fakeAlone.completed} payments, ${h.fakeAlone.failures} failed); ceiling by latency alone ${ceiling.toFixed(0)}/s | |`,
    `| the fake alone, ${LOW} at a time (${l.fakeAlone.stretches} stretches) | per confirm p50 **${ms(l.fakeAlone.times.p50)} ms**, p99 **${ms(l.fakeAlone.times.p99)} ms** (${l.fakeAlone.completed} confirms, ${l.fakeAlone.failures} failed) | |`,
    `| confirm, fake at ${LATENCY} ms per call, ${LOW} in flight (${l.slow.stretches} stretches) | ${fmtRun(l.slow)} | |`,
    `| confirm, instant fake, ${OWN} at a time (paylink's own time per confirm, ${l.own.stretches} stretches) | p50 **${ms(l.own.times.p50)} ms**, p99 **${ms(l.own.times.p99)} ms** (${l.own.rps.toFixed(0)} payments/s; ${l.own.completed} answers, ${l.own.failures} failed) | |`,
    `| paylink adds, ${LOW} in flight | p99 **${signed(l.addsOverNominalP99)} ms** over ${nominal} ms (p50 ${signed(l.addsOverNominalP50)} ms); over the fake's own measured time: p99 ${signed(l.addsOverFakeP99)} ms, p50 ${signed(l.addsOverFakeP50)} ms | ≤ 25 ms at p99: ${pass(l.addsOverNominalP99 <= 25)} (over ${nominal} ms), ${pass(l.addsOverFakeP99 <= 25)} (over the fake's p99) |`,
    '',
    `PostgreSQL, sampled every ${SAMPLE_MS} ms while paylink was loaded (connections of the bench database, the sampler's own left out): ${HIGH} in flight on the slow fake — at most **${h.slow.db.maxActive} active** (mean ${h.slow.db.meanActive.toFixed(1)}), at most **${h.slow.db.maxInTransaction} idle in transaction** (mean ${h.slow.db.meanInTransaction.toFixed(2)}), intents in \`processing\` mean **${h.slow.db.meanProcessing.toFixed(0)}**, at most ${h.slow.db.maxProcessing}; on the instant fake — at most ${h.instant.db.maxActive} active (mean ${h.instant.db.meanActive.toFixed(1)}), ${h.instant.db.maxInTransaction} idle in transaction (mean ${h.instant.db.meanInTransaction.toFixed(2)}), processing mean ${h.instant.db.meanProcessing.toFixed(0)}. ${LOW} in flight on the slow fake: at most ${l.slow.db.maxActive} active, ${l.slow.db.maxInTransaction} idle in transaction (mean ${l.slow.db.meanInTransaction.toFixed(2)}), processing mean ${l.slow.db.meanProcessing.toFixed(0)}.`,
    '',
    `paylink's event loop, how late it ran (bench/loop-delay.mjs; the worst stretch's p50 / p99 / max): ${HIGH} in flight, instant — ${loop(h.instant)}; ${HIGH} in flight, slow — ${loop(h.slow)}; ${LOW} in flight, slow — ${loop(l.slow)}; ${OWN} at a time, instant — ${loop(l.own)}.`,
    '',
    `CPU (user + system from /proc, over the same stretches): ${HIGH} in flight, instant — ${cpu(h.instant)}; ${HIGH} in flight, slow — ${cpu(h.slow)}; ${LOW} in flight, slow — ${cpu(l.slow)}. (The load generator reads and parses every answer.)`,
    '',
    `Checks: intents succeeded ${r.tally.succeeded} (with a Stripe reference: ${r.tally.with_ref}), confirmed but not succeeded ${r.tally.other}; pages opened ${r.tally.opened} (the pool of loaded pages keeps a few unpaid); paylink's calls to the fake per page opened plus payment made ${r.tally.paylinkCallsPerPageAndPayment.toFixed(2)} (one create per page, one confirm per payment; confirms still in flight at a stretch's end finish after it: they count here, not among the answers).`,
  ]
  return lines.join('\n')
}


